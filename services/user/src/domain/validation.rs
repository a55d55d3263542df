//! Request rules of register and login, pure: a JSON body in, clean values or every problem out.
//!
//! Bodies are read with `ticketflow_common::validate::Fields`, as event-service reads its own,
//! so a missing field, a wrong type and a bad value are all reported together, one `details`
//! entry per field. The messages are this service's own (clients may show them).

use serde_json::Value;
use ticketflow_common::config::Secret;
use ticketflow_common::validate::{self, Fields};
use ticketflow_common::ApiError;

pub const NAME_MIN_CHARS: usize = 2;
pub const NAME_MAX_CHARS: usize = 100;
pub const EMAIL_MAX_BYTES: usize = 254;
const EMAIL_LOCAL_MAX_BYTES: usize = 64;
const DOMAIN_LABEL_MAX_BYTES: usize = 63;
pub const PASSWORD_MIN_BYTES: usize = 8;
pub const PASSWORD_MAX_BYTES: usize = 72;

/// A valid registration: trimmed name, normalised e-mail, the password as sent.
#[derive(Debug)]
pub struct Registration {
    pub name: String,
    pub email: String,
    pub password: Secret,
}

/// What a login attempt sent: the e-mail normalised (not syntax-checked: an address that could
/// never have registered simply finds no account), the password as sent.
#[derive(Debug)]
pub struct Credentials {
    pub email: String,
    pub password: Secret,
}

/// Every problem of a `POST /api/users/register` body, or the registration it asks for.
pub fn registration(body: &Value) -> Result<Registration, ApiError> {
    let mut f = Fields::of(body)?;
    let name = f.required("name", |v| Ok(validate_name(validate::string(v)?)?));
    let email = f.required("email", |v| Ok(normalize_email(validate::string(v)?)?));
    let password = f.required("password", |v| {
        let raw = validate::string(v)?;
        validate_password(raw)?;
        Ok(Secret::new(raw.to_owned()))
    });
    f.finish_with(|| {
        Some(Registration {
            name: name?,
            email: email?,
            password: password?,
        })
    })
}

/// Every problem of a `POST /api/users/login` body, or the credentials it sends.
pub fn credentials(body: &Value) -> Result<Credentials, ApiError> {
    let mut f = Fields::of(body)?;
    let email = f.required("email", |v| {
        let email = validate::string(v)?.trim().to_lowercase();
        non_empty(email)
    });
    let password = f.required("password", |v| {
        non_empty(validate::string(v)?.to_owned()).map(Secret::new)
    });
    f.finish_with(|| {
        Some(Credentials {
            email: email?,
            password: password?,
        })
    })
}

/// An empty string reads as a missing one.
fn non_empty(text: String) -> Result<String, String> {
    if text.is_empty() {
        Err("is required".to_owned())
    } else {
        Ok(text)
    }
}

/// The name trimmed, 2–100 characters, without control characters.
pub fn validate_name(raw: &str) -> Result<String, &'static str> {
    let name = raw.trim();
    let chars = name.chars().count();
    if !(NAME_MIN_CHARS..=NAME_MAX_CHARS).contains(&chars) {
        return Err("must be between 2 and 100 characters");
    }
    if name.chars().any(char::is_control) {
        return Err("must not contain control characters");
    }
    Ok(name.to_owned())
}

/// The address trimmed and lowercased, if it is a plausible address of at most 254 bytes.
pub fn normalize_email(raw: &str) -> Result<String, &'static str> {
    let email = raw.trim().to_lowercase();
    if email.is_empty() {
        return Err("is required");
    }
    if email.len() > EMAIL_MAX_BYTES {
        return Err("must be at most 254 characters");
    }
    if !is_plausible_email(&email) {
        return Err("must be a valid email address");
    }
    Ok(email)
}

/// 8–72 bytes (72 is where bcrypt stops reading; kept for compatibility of the rule).
pub fn validate_password(raw: &str) -> Result<(), &'static str> {
    if (PASSWORD_MIN_BYTES..=PASSWORD_MAX_BYTES).contains(&raw.len()) {
        Ok(())
    } else {
        Err("must be between 8 and 72 bytes")
    }
}

/// `local@domain` in ASCII: the local part from RFC 5322's dot-atom characters (no leading,
/// trailing or double dot, at most 64 bytes); a domain of at least two labels of letters,
/// digits and inner hyphens, each at most 63 bytes, the last not all digits.
pub fn is_plausible_email(email: &str) -> bool {
    let Some((local, domain)) = email.split_once('@') else {
        return false;
    };
    let local_ok = !local.is_empty()
        && local.len() <= EMAIL_LOCAL_MAX_BYTES
        && local
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+/=?^_`{|}~.-".contains(&b))
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..");
    let labels: Vec<&str> = domain.split('.').collect();
    let labels_ok = labels.len() >= 2
        && labels.iter().all(|label| {
            !label.is_empty()
                && label.len() <= DOMAIN_LABEL_MAX_BYTES
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && !label.starts_with('-')
                && !label.ends_with('-')
        });
    let tld_ok = labels
        .last()
        .is_some_and(|tld| tld.len() >= 2 && !tld.bytes().all(|b| b.is_ascii_digit()));
    local_ok && labels_ok && tld_ok
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use ticketflow_common::FieldError;

    /// The `details` of a `400 VALIDATION_ERROR`; empty for anything else.
    fn problems<T>(result: Result<T, ApiError>) -> Vec<FieldError> {
        match result {
            Err(ApiError::Client {
                code: "VALIDATION_ERROR",
                details,
                ..
            }) => details,
            _ => Vec::new(),
        }
    }

    fn fields(errors: &[FieldError]) -> Vec<&str> {
        errors.iter().map(|e| e.field.as_str()).collect()
    }

    #[test]
    fn valid_registration_is_normalised() -> anyhow::Result<()> {
        let reg = registration(&json!({
            "name": "  Ada Lovelace ",
            "email": "  Ada@Example.COM ",
            "password": "correct horse",
            "role": "ADMIN"
        }))
        .map_err(|e| anyhow::anyhow!("{e:?}"))?;
        assert_eq!(reg.name, "Ada Lovelace");
        assert_eq!(reg.email, "ada@example.com");
        assert_eq!(reg.password.expose(), "correct horse");
        assert!(!format!("{reg:?}").contains("correct horse"));
        Ok(())
    }

    #[test]
    fn every_invalid_field_is_reported() {
        let errors = problems(registration(
            &json!({"name": " a ", "email": "nope", "password": "short"}),
        ));
        assert_eq!(fields(&errors), ["name", "email", "password"]);
        let errors = problems(registration(&json!({})));
        assert_eq!(fields(&errors), ["name", "email", "password"]);
        assert!(errors.iter().all(|e| e.message == "is required"));
        let errors = problems(registration(
            &json!({"name": 5, "email": null, "password": ["x"]}),
        ));
        assert_eq!(
            errors,
            vec![
                FieldError::new("name", "must be a string"),
                FieldError::new("email", "is required"),
                FieldError::new("password", "must be a string"),
            ]
        );
        let errors = problems(registration(&json!([1, 2])));
        assert_eq!(
            errors,
            vec![FieldError::new("body", "must be a JSON object")]
        );
    }

    #[test]
    fn name_bounds_count_characters_after_trim() {
        assert!(validate_name("Al").is_ok());
        assert!(validate_name("  A  ").is_err());
        assert!(validate_name(&"x".repeat(100)).is_ok());
        assert!(validate_name(&"x".repeat(101)).is_err());
        // 100 multi-byte characters are fine: the bound is characters, not bytes.
        assert!(validate_name(&"é".repeat(100)).is_ok());
        assert!(validate_name("Bob\u{0}by").is_err());
        assert!(validate_name("Bob\nby").is_err());
    }

    #[test]
    fn password_bounds_count_bytes() {
        assert!(validate_password("12345678").is_ok());
        assert!(validate_password("1234567").is_err());
        assert!(validate_password(&"x".repeat(72)).is_ok());
        assert!(validate_password(&"x".repeat(73)).is_err());
        // 25 three-byte characters are 75 bytes: too long although only 25 characters.
        assert!(validate_password(&"€".repeat(25)).is_err());
        // 3 four-byte characters are 12 bytes: long enough although only 3 characters.
        assert!(validate_password(&"🎫".repeat(3)).is_ok());
        // Spaces count; a password is never trimmed.
        assert!(validate_password("        ").is_ok());
    }

    #[test]
    fn emails() {
        for good in [
            "a@b.co",
            "first.last+tag@sub.example.org",
            "o'neil@example.ie",
            "x@xn--p1ai.xn--p1ai",
            "user@123.example.com",
        ] {
            assert!(is_plausible_email(good), "{good}");
        }
        for bad in [
            "",
            "plain",
            "@example.com",
            "a@",
            "a@b",
            "a@@b.com",
            "a@b@c.com",
            "a b@c.com",
            ".a@b.com",
            "a.@b.com",
            "a..b@c.com",
            "a@-b.com",
            "a@b-.com",
            "a@b..com",
            "a@b.c",
            "a@1.2.3.4",
            "ä@b.com",
            "a@bücher.de",
            "a@b.com\n",
        ] {
            assert!(!is_plausible_email(bad), "{bad:?}");
        }
        assert_eq!(normalize_email(" A@B.Co "), Ok("a@b.co".to_owned()));
        let long_local = format!("{}@example.com", "a".repeat(65));
        assert!(normalize_email(&long_local).is_err());
        let label = "d".repeat(60);
        let long = format!("a@{label}.{label}.{label}.{label}.com"); // 2 + 4*61 + 3 = 249
        assert!(normalize_email(&long).is_ok(), "{}", long.len());
        let too_long = format!("abcdef{long}");
        assert_eq!(
            normalize_email(&too_long),
            Err("must be at most 254 characters")
        );
    }

    #[test]
    fn credentials_need_both_fields() -> anyhow::Result<()> {
        let ok = credentials(&json!({"email": " X@Y.Z ", "password": "pw"}))
            .map_err(|e| anyhow::anyhow!("{e:?}"))?;
        assert_eq!(ok.email, "x@y.z");
        let errors = problems(credentials(&json!({"email": "  ", "password": 3})));
        assert_eq!(
            errors,
            vec![
                FieldError::new("email", "is required"),
                FieldError::new("password", "must be a string"),
            ]
        );
        Ok(())
    }
}
