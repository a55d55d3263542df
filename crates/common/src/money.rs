//! Money: a JSON number in major units on the wire, integer minor units in every store.

/// The highest price an event may have, in minor units (₹10,00,000.00).
pub const MAX_PRICE_MINOR: i64 = 100_000_000;

/// Major units (at most 2 decimals, `0 ..= 1000000`) to minor units.
pub fn to_minor(major: f64) -> Result<i64, String> {
    if !major.is_finite() || major < 0.0 {
        return Err("must be a number greater than or equal to 0".into());
    }
    let scaled = major * 100.0;
    let rounded = scaled.round();
    if rounded > MAX_PRICE_MINOR as f64 {
        return Err(format!("must be at most {}", MAX_PRICE_MINOR / 100));
    }
    // Binary floats: 0.29 * 100 = 28.999999999999996, which is still 2 decimals.
    if (scaled - rounded).abs() > 1e-6 {
        return Err("must have at most 2 decimals".into());
    }
    Ok(rounded as i64)
}

pub fn to_major(minor: i64) -> f64 {
    minor as f64 / 100.0
}

/// An ISO 4217-style code: exactly three uppercase ASCII letters.
pub fn currency(code: &str) -> Result<String, String> {
    if code.len() == 3 && code.bytes().all(|b| b.is_ascii_uppercase()) {
        Ok(code.to_owned())
    } else {
        Err("must be 3 uppercase letters, e.g. INR".into())
    }
}

pub const DEFAULT_CURRENCY: &str = "INR";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn converts_major_to_minor() {
        assert_eq!(to_minor(150.0), Ok(15000));
        assert_eq!(to_minor(0.0), Ok(0));
        assert_eq!(to_minor(0.29), Ok(29));
        assert_eq!(to_minor(1999.99), Ok(199999));
        assert_eq!(to_minor(1_000_000.0), Ok(100_000_000));
        assert!(to_minor(1_000_000.01).is_err());
        assert!(to_minor(1.005).is_err());
        assert!(to_minor(10.123).is_err());
        assert!(to_minor(-0.01).is_err());
        assert!(to_minor(f64::NAN).is_err());
        assert_eq!(to_major(15050), 150.5);
    }

    #[test]
    fn currency_codes() {
        assert_eq!(currency("INR"), Ok("INR".to_owned()));
        assert!(currency("inr").is_err());
        assert!(currency("RUPEE").is_err());
        assert!(currency("").is_err());
    }
}
