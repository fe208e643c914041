//! Conversation rules: states, delivery-status order, the 24-hour customer-service window and
//! the customer's identity.

use serde::{Deserialize, Serialize};

use crate::webhook::{Contact, InboundMessage};

/// Seconds in Meta's customer-service window: 24 h from the customer's last message.
pub const WINDOW_SECONDS: i64 = 24 * 60 * 60;

/// Where a conversation stands. Stored server-side and shown above every thread.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConversationState {
    /// The bot is handling it.
    Bot,
    /// Queued for a human; nobody owns it yet.
    AwaitingAgent,
    /// A human owns it.
    Assigned,
    /// We replied and wait for the customer.
    AwaitingCustomer,
    /// Closed; a new customer message reopens it.
    Resolved,
}

impl ConversationState {
    pub const ALL: [ConversationState; 5] = [
        Self::Bot,
        Self::AwaitingAgent,
        Self::Assigned,
        Self::AwaitingCustomer,
        Self::Resolved,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Bot => "bot",
            Self::AwaitingAgent => "awaiting_agent",
            Self::Assigned => "assigned",
            Self::AwaitingCustomer => "awaiting_customer",
            Self::Resolved => "resolved",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|st| st.as_str() == s)
    }

    /// The state after the customer writes. A resolved conversation reopens with the bot; one
    /// waiting on the customer goes back to whoever owns it.
    pub fn on_customer_message(self, has_owner: bool) -> Self {
        match self {
            Self::Resolved => Self::Bot,
            Self::AwaitingCustomer if has_owner => Self::Assigned,
            Self::AwaitingCustomer => Self::Bot,
            other => other,
        }
    }
}

/// Delivery status of an outbound message. Statuses arrive out of order and more than once, so
/// they only ever move forward: `sent < delivered < read < played`; `failed` is terminal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryStatus {
    Sent,
    Delivered,
    Read,
    Played,
    Failed,
}

impl DeliveryStatus {
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "sent" => Self::Sent,
            "delivered" => Self::Delivered,
            "read" => Self::Read,
            "played" => Self::Played,
            "failed" => Self::Failed,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sent => "sent",
            Self::Delivered => "delivered",
            Self::Read => "read",
            Self::Played => "played",
            Self::Failed => "failed",
        }
    }

    /// The rank stored with the status; a write only lands when it is higher than the stored one.
    pub fn rank(self) -> i64 {
        match self {
            Self::Sent => 1,
            Self::Delivered => 2,
            Self::Read => 3,
            Self::Played => 4,
            Self::Failed => 100,
        }
    }
}

/// When the window opened by a customer message at `message_ts` (Meta's time) closes.
pub fn window_expires_at(message_ts: i64) -> i64 {
    message_ts + WINDOW_SECONDS
}

/// Whether a window item is open. TTL deletes lazily, so an item that still exists but whose
/// `expires_at` has passed is closed.
pub fn window_is_open(expires_at: i64, now: i64) -> bool {
    now < expires_at
}

/// Everything a message tells us about who wrote it. BSUID-first: the phone number may be absent.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Identity {
    /// Business-scoped user id (`US.1349…`), when Meta sent one.
    pub bsuid: Option<String>,
    /// WhatsApp id (phone digits), when Meta sent one.
    pub wa_id: Option<String>,
    pub username: Option<String>,
    pub profile_name: Option<String>,
}

impl Identity {
    pub fn of_message(message: &InboundMessage, contact: Option<&Contact>) -> Self {
        let profile = contact.and_then(|c| c.profile.as_ref());
        Self {
            bsuid: non_empty(message.from_user_id.as_deref())
                .or_else(|| non_empty(contact.and_then(|c| c.user_id.as_deref()))),
            wa_id: non_empty(message.from.as_deref())
                .or_else(|| non_empty(contact.and_then(|c| c.wa_id.as_deref()))),
            username: profile.and_then(|p| p.username.clone()),
            profile_name: profile.and_then(|p| p.name.clone()),
        }
    }

    /// Identifiers to look the contact up by, BSUID first. Each maps to one contact (alias items).
    pub fn identifiers(&self) -> Vec<String> {
        let mut ids = Vec::new();
        if let Some(b) = &self.bsuid {
            ids.push(format!("bsuid:{b}"));
        }
        if let Some(w) = &self.wa_id {
            ids.push(format!("wa:{w}"));
        }
        ids
    }

    pub fn is_empty(&self) -> bool {
        self.bsuid.is_none() && self.wa_id.is_none()
    }
}

fn non_empty(s: Option<&str>) -> Option<String> {
    s.filter(|s| !s.trim().is_empty()).map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_round_trip_and_reopen() {
        for st in ConversationState::ALL {
            assert_eq!(ConversationState::parse(st.as_str()), Some(st));
        }
        assert_eq!(ConversationState::parse("open"), None);
        use ConversationState::*;
        assert_eq!(Resolved.on_customer_message(false), Bot);
        assert_eq!(AwaitingCustomer.on_customer_message(true), Assigned);
        assert_eq!(AwaitingCustomer.on_customer_message(false), Bot);
        assert_eq!(Assigned.on_customer_message(true), Assigned);
        assert_eq!(AwaitingAgent.on_customer_message(false), AwaitingAgent);
    }

    #[test]
    fn statuses_only_move_forward_and_failed_is_terminal() {
        use DeliveryStatus::*;
        assert!(Sent.rank() < Delivered.rank());
        assert!(Delivered.rank() < Read.rank());
        assert!(Read.rank() < Played.rank());
        for s in [Sent, Delivered, Read, Played] {
            assert!(s.rank() < Failed.rank());
        }
        assert_eq!(DeliveryStatus::parse("deleted"), None);
    }

    #[test]
    fn window_is_closed_at_and_after_expiry() {
        let exp = window_expires_at(1_000);
        assert_eq!(exp, 1_000 + 86_400);
        assert!(window_is_open(exp, exp - 1));
        assert!(!window_is_open(exp, exp));
        assert!(!window_is_open(exp, exp + 3_600));
    }
}
