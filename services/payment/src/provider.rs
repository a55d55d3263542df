//! The mock payment provider: a charge succeeds with probability `PAYMENT_SUCCESS_RATE`
//! after `PAYMENT_DELAY_MS`. It has no side effect of its own: the charge counts once its
//! outcome is stored (see `payments::process`).

use std::time::Duration;

use rand::Rng;

/// `reason` of a declined mock charge.
pub const DECLINED: &str = "Card declined by the mock provider";

#[derive(Debug, Clone, PartialEq)]
pub struct Charge {
    pub success: bool,
    /// `mock_txn_<random>`.
    pub provider_ref: String,
    /// Why it failed (`None` on success).
    pub reason: Option<String>,
}

#[derive(Debug, Clone)]
pub struct MockProvider {
    success_rate: f64,
    delay: Duration,
}

impl MockProvider {
    pub fn new(success_rate: f64, delay: Duration) -> Self {
        Self {
            success_rate: success_rate.clamp(0.0, 1.0),
            delay,
        }
    }

    /// Charges after the configured delay.
    pub async fn charge(&self) -> Charge {
        if !self.delay.is_zero() {
            tokio::time::sleep(self.delay).await;
        }
        self.decide(rand::thread_rng().gen::<f64>())
    }

    /// The outcome for a uniform draw in `[0, 1)`: rate 1 always succeeds, rate 0 never.
    fn decide(&self, draw: f64) -> Charge {
        let success = draw < self.success_rate;
        Charge {
            success,
            provider_ref: format!("mock_txn_{}", uuid::Uuid::new_v4().simple()),
            reason: (!success).then(|| DECLINED.to_owned()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rate_decides() {
        let always = MockProvider::new(1.0, Duration::ZERO);
        let never = MockProvider::new(0.0, Duration::ZERO);
        for draw in [0.0, 0.5, 0.999_999] {
            assert!(always.decide(draw).success);
            let failed = never.decide(draw);
            assert!(!failed.success);
            assert_eq!(failed.reason.as_deref(), Some(DECLINED));
        }
        let most = MockProvider::new(0.95, Duration::ZERO);
        assert!(most.decide(0.94).success && !most.decide(0.95).success);
        let charge = always.decide(0.1);
        assert!(charge.provider_ref.starts_with("mock_txn_") && charge.provider_ref.len() > 20);
        assert_eq!(charge.reason, None);
    }
}
