//! The booking saga as a pure state machine: for every (step, input) pair, the next step and
//! the messages to send. Steps that are terminal never move (except CONFIRMED → CANCELLED by
//! the owner); a late message for a terminal booking only ever causes compensation.

use serde::Serialize;

/// Where a booking stands. `status` is what clients see.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Step {
    AwaitingSeats,
    AwaitingPayment,
    Confirmed,
    Failed,
    Cancelled,
}

/// What clients see: `PENDING` until the saga ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Status {
    Pending,
    Confirmed,
    Failed,
    Cancelled,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "PENDING",
            Self::Confirmed => "CONFIRMED",
            Self::Failed => "FAILED",
            Self::Cancelled => "CANCELLED",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [
            Self::Pending,
            Self::Confirmed,
            Self::Failed,
            Self::Cancelled,
        ]
        .into_iter()
        .find(|status| status.as_str() == text)
    }
}

impl Step {
    pub const ALL: [Step; 5] = [
        Step::AwaitingSeats,
        Step::AwaitingPayment,
        Step::Confirmed,
        Step::Failed,
        Step::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::AwaitingSeats => "AWAITING_SEATS",
            Self::AwaitingPayment => "AWAITING_PAYMENT",
            Self::Confirmed => "CONFIRMED",
            Self::Failed => "FAILED",
            Self::Cancelled => "CANCELLED",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|step| step.as_str() == text)
    }

    pub fn status(self) -> Status {
        match self {
            Self::AwaitingSeats | Self::AwaitingPayment => Status::Pending,
            Self::Confirmed => Status::Confirmed,
            Self::Failed => Status::Failed,
            Self::Cancelled => Status::Cancelled,
        }
    }
}

/// What happens to a booking.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    SeatsLocked,
    SeatsLockFailed {
        reason: String,
    },
    PaymentSucceeded,
    PaymentFailed {
        reason: String,
    },
    /// The owner cancels (the cancellation window is checked before).
    Cancel,
    /// `BOOKING_TIMEOUT_MS` passed while the booking was pending.
    Timeout,
}

/// A message the transition sends (through the outbox, with the booking's change).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    RequestPayment,
    PublishConfirmed,
    ConfirmSeats,
    PublishFailed,
    PublishCancelled,
    ReleaseSeats,
}

/// The outcome of an input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transition {
    /// `None`: the booking stays where it is.
    pub next: Option<Step>,
    pub failure_reason: Option<String>,
    pub effects: Vec<Effect>,
}

impl Transition {
    fn stay() -> Self {
        Self {
            next: None,
            failure_reason: None,
            effects: Vec::new(),
        }
    }

    fn to(next: Step, effects: &[Effect]) -> Self {
        Self {
            next: Some(next),
            failure_reason: None,
            effects: effects.to_vec(),
        }
    }

    fn fail(reason: &str, effects: &[Effect]) -> Self {
        Self {
            next: Some(Step::Failed),
            failure_reason: Some(reason.to_owned()),
            effects: effects.to_vec(),
        }
    }

    fn compensate(effects: &[Effect]) -> Self {
        Self {
            next: None,
            failure_reason: None,
            effects: effects.to_vec(),
        }
    }
}

pub const REASON_PAYMENT_FAILED: &str = "PAYMENT_FAILED";
pub const REASON_TIMEOUT: &str = "TIMEOUT";

/// The whole saga: every (step, input) pair.
pub fn next(step: Step, input: &Input) -> Transition {
    use Effect::*;
    use Step::*;
    match (step, input) {
        (AwaitingSeats, Input::SeatsLocked) => Transition::to(AwaitingPayment, &[RequestPayment]),
        (AwaitingSeats, Input::SeatsLockFailed { reason }) => {
            Transition::fail(reason, &[PublishFailed])
        }
        // Payment is only requested once seats are held: nothing to pay for yet.
        (AwaitingSeats, Input::PaymentSucceeded | Input::PaymentFailed { .. }) => {
            Transition::stay()
        }
        // Seats may still be locked by the request in flight: release whatever comes.
        (AwaitingSeats | AwaitingPayment, Input::Cancel) => {
            Transition::to(Cancelled, &[PublishCancelled, ReleaseSeats])
        }
        (AwaitingSeats | AwaitingPayment, Input::Timeout) => {
            Transition::fail(REASON_TIMEOUT, &[PublishFailed, ReleaseSeats])
        }
        (AwaitingPayment, Input::SeatsLocked | Input::SeatsLockFailed { .. }) => Transition::stay(),
        (AwaitingPayment, Input::PaymentSucceeded) => {
            Transition::to(Confirmed, &[PublishConfirmed, ConfirmSeats])
        }
        (AwaitingPayment, Input::PaymentFailed { .. }) => {
            Transition::fail(REASON_PAYMENT_FAILED, &[PublishFailed, ReleaseSeats])
        }
        (Confirmed, Input::Cancel) => Transition::to(Cancelled, &[PublishCancelled, ReleaseSeats]),
        (
            Confirmed,
            Input::SeatsLocked
            | Input::SeatsLockFailed { .. }
            | Input::PaymentSucceeded
            | Input::PaymentFailed { .. }
            | Input::Timeout,
        ) => Transition::stay(),
        // A lock that arrives after the booking ended would hold seats for nobody.
        (Failed | Cancelled, Input::SeatsLocked) => Transition::compensate(&[ReleaseSeats]),
        // A late charge is refunded by payment-service, which refunds on booking.failed /
        // booking.cancelled (already sent).
        (
            Failed | Cancelled,
            Input::SeatsLockFailed { .. }
            | Input::PaymentSucceeded
            | Input::PaymentFailed { .. }
            | Input::Cancel
            | Input::Timeout,
        ) => Transition::stay(),
    }
}

/// Whether the owner may cancel in this step (the window rule comes on top for CONFIRMED).
pub fn cancellable(step: Step) -> bool {
    matches!(
        step,
        Step::AwaitingSeats | Step::AwaitingPayment | Step::Confirmed
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use Effect::*;
    use Step::*;

    fn inputs() -> Vec<Input> {
        vec![
            Input::SeatsLocked,
            Input::SeatsLockFailed {
                reason: "SEATS_UNAVAILABLE".into(),
            },
            Input::PaymentSucceeded,
            Input::PaymentFailed {
                reason: "declined".into(),
            },
            Input::Cancel,
            Input::Timeout,
        ]
    }

    /// The expected table, written out: (step, input index) → (next, reason, effects).
    fn expected(step: Step, input: &Input) -> (Option<Step>, Option<&'static str>, Vec<Effect>) {
        match (step, input) {
            (AwaitingSeats, Input::SeatsLocked) => {
                (Some(AwaitingPayment), None, vec![RequestPayment])
            }
            (AwaitingSeats, Input::SeatsLockFailed { .. }) => {
                (Some(Failed), Some("SEATS_UNAVAILABLE"), vec![PublishFailed])
            }
            (AwaitingSeats, Input::Cancel)
            | (AwaitingPayment, Input::Cancel)
            | (Confirmed, Input::Cancel) => {
                (Some(Cancelled), None, vec![PublishCancelled, ReleaseSeats])
            }
            (AwaitingSeats, Input::Timeout) | (AwaitingPayment, Input::Timeout) => (
                Some(Failed),
                Some("TIMEOUT"),
                vec![PublishFailed, ReleaseSeats],
            ),
            (AwaitingPayment, Input::PaymentSucceeded) => {
                (Some(Confirmed), None, vec![PublishConfirmed, ConfirmSeats])
            }
            (AwaitingPayment, Input::PaymentFailed { .. }) => (
                Some(Failed),
                Some("PAYMENT_FAILED"),
                vec![PublishFailed, ReleaseSeats],
            ),
            (Failed, Input::SeatsLocked) | (Cancelled, Input::SeatsLocked) => {
                (None, None, vec![ReleaseSeats])
            }
            _ => (None, None, vec![]),
        }
    }

    #[test]
    fn every_step_and_input_pair_is_as_the_table_says() {
        let mut pairs = 0;
        for step in Step::ALL {
            for input in inputs() {
                let transition = next(step, &input);
                let (next_step, reason, effects) = expected(step, &input);
                assert_eq!(transition.next, next_step, "{step:?} + {input:?}");
                assert_eq!(
                    transition.failure_reason.as_deref(),
                    reason,
                    "{step:?} + {input:?}"
                );
                assert_eq!(transition.effects, effects, "{step:?} + {input:?}");
                pairs += 1;
            }
        }
        assert_eq!(pairs, 30);
    }

    #[test]
    fn terminal_steps_never_move_except_confirmed_to_cancelled() {
        for step in [Failed, Cancelled] {
            for input in inputs() {
                assert_eq!(next(step, &input).next, None, "{step:?} + {input:?}");
            }
        }
        for input in inputs() {
            let moved = next(Confirmed, &input).next;
            assert!(moved.is_none() || moved == Some(Cancelled), "{input:?}");
        }
    }

    #[test]
    fn nothing_is_ever_released_and_confirmed_by_one_transition() {
        for step in Step::ALL {
            for input in inputs() {
                let effects = next(step, &input).effects;
                assert!(
                    !(effects.contains(&ReleaseSeats) && effects.contains(&ConfirmSeats)),
                    "{step:?} + {input:?}"
                );
            }
        }
    }

    #[test]
    fn statuses_and_names() {
        assert_eq!(AwaitingSeats.status(), Status::Pending);
        assert_eq!(AwaitingPayment.status(), Status::Pending);
        for step in Step::ALL {
            assert_eq!(Step::parse(step.as_str()), Some(step));
        }
        assert_eq!(Status::parse("CONFIRMED"), Some(Status::Confirmed));
        assert_eq!(Status::parse("confirmed"), None);
        assert!(cancellable(Confirmed) && !cancellable(Failed) && !cancellable(Cancelled));
    }
}
