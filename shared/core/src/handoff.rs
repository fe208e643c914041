//! Handoff as a primitive: the conversation's human-ownership state machine. Pure rules; the
//! app layer makes each transition a conditional write so that of two agents accepting at once
//! exactly one wins.
//!
//! bot → awaiting_agent (queued, with priority and SLA deadline) → assigned (one agent) →
//! resolved | returned to the bot | transferred (back to awaiting_agent in another queue, or
//! straight to a named agent by a lead).

use serde::{Deserialize, Serialize};

use crate::conversation::ConversationState;

/// Who asks for a transition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    Agent(String),
    /// A lead may act on conversations they do not own (transfer, resolve).
    Lead(String),
    /// The bot or the pipeline (triage asking for a human, the customer tapping "talk to a human").
    System,
}

impl Actor {
    fn name(&self) -> Option<&str> {
        match self {
            Actor::Agent(n) | Actor::Lead(n) => Some(n),
            Actor::System => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Action {
    /// Queue for a human.
    Request {
        queue: String,
        reason: String,
    },
    Accept,
    Transfer {
        queue: String,
        to_agent: Option<String>,
    },
    Resolve,
    ReturnToBot,
    /// An agent's reply: allowed only to the owner (or a lead).
    Reply,
}

/// The handoff part of a conversation, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Handoff {
    pub state: ConversationState,
    pub queue: Option<String>,
    pub owner: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transition {
    pub to: ConversationState,
    pub queue: Option<String>,
    pub owner: Option<String>,
    /// The event this transition publishes (`handoff.queued`, `handoff.accepted`, …).
    pub event: &'static str,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HandoffError {
    #[error("the conversation is {0:?}; {1} is not possible from there")]
    InvalidState(ConversationState, &'static str),
    #[error("only the owner ({owner}) or a lead may do this")]
    NotOwner { owner: String },
    #[error("someone already owns this conversation")]
    AlreadyOwned,
    #[error("this action needs a person, not the system")]
    NeedsPerson,
}

impl Handoff {
    /// The transition `action` by `actor` makes, or why it is refused.
    pub fn apply(&self, actor: &Actor, action: &Action) -> Result<Transition, HandoffError> {
        use ConversationState::*;
        let owner_or_lead = |what: &'static str| -> Result<(), HandoffError> {
            match (actor, &self.owner) {
                (Actor::Lead(_), _) => Ok(()),
                (Actor::Agent(a), Some(o)) if a == o => Ok(()),
                (Actor::Agent(_), Some(o)) => Err(HandoffError::NotOwner { owner: o.clone() }),
                (Actor::Agent(_), None) => Err(HandoffError::InvalidState(self.state, what)),
                (Actor::System, _) => Err(HandoffError::NeedsPerson),
            }
        };
        match action {
            Action::Request { queue, .. } => match self.state {
                Bot | Resolved | AwaitingCustomer if self.owner.is_none() => Ok(Transition {
                    to: AwaitingAgent,
                    queue: Some(queue.clone()),
                    owner: None,
                    event: "handoff.queued",
                }),
                // Already with (or waiting for) a human: nothing to do.
                _ => Err(HandoffError::InvalidState(self.state, "request")),
            },
            Action::Accept => {
                let who = actor.name().ok_or(HandoffError::NeedsPerson)?;
                match (self.state, &self.owner) {
                    (AwaitingAgent, None) => Ok(Transition {
                        to: Assigned,
                        queue: self.queue.clone(),
                        owner: Some(who.to_string()),
                        event: "handoff.accepted",
                    }),
                    (_, Some(_)) => Err(HandoffError::AlreadyOwned),
                    (s, None) => Err(HandoffError::InvalidState(s, "accept")),
                }
            }
            Action::Transfer { queue, to_agent } => {
                if self.state != Assigned
                    && self.state != AwaitingAgent
                    && self.state != AwaitingCustomer
                {
                    return Err(HandoffError::InvalidState(self.state, "transfer"));
                }
                if self.owner.is_some() {
                    owner_or_lead("transfer")?;
                } else if matches!(actor, Actor::System) {
                    return Err(HandoffError::NeedsPerson);
                }
                // Only a lead assigns straight to a named agent; an agent hands back to a queue.
                let direct = to_agent.clone().filter(|_| matches!(actor, Actor::Lead(_)));
                Ok(Transition {
                    to: if direct.is_some() {
                        Assigned
                    } else {
                        AwaitingAgent
                    },
                    queue: Some(queue.clone()),
                    owner: direct,
                    event: "handoff.transferred",
                })
            }
            Action::Resolve => {
                if !matches!(self.state, Assigned | AwaitingCustomer) {
                    return Err(HandoffError::InvalidState(self.state, "resolve"));
                }
                owner_or_lead("resolve")?;
                Ok(Transition {
                    to: Resolved,
                    queue: self.queue.clone(),
                    owner: None,
                    event: "handoff.resolved",
                })
            }
            Action::ReturnToBot => {
                if !matches!(self.state, Assigned | AwaitingCustomer | AwaitingAgent) {
                    return Err(HandoffError::InvalidState(self.state, "return to the bot"));
                }
                if self.owner.is_some() {
                    owner_or_lead("return to the bot")?;
                }
                Ok(Transition {
                    to: Bot,
                    queue: self.queue.clone(),
                    owner: None,
                    event: "handoff.returned_to_bot",
                })
            }
            Action::Reply => {
                if !matches!(self.state, Assigned | AwaitingCustomer) {
                    return Err(HandoffError::InvalidState(self.state, "reply"));
                }
                owner_or_lead("reply")?;
                Ok(Transition {
                    to: AwaitingCustomer,
                    queue: self.queue.clone(),
                    owner: self.owner.clone(),
                    event: "message.sent_by_agent",
                })
            }
        }
    }

    /// The bot speaks only while no human owns the conversation.
    pub fn bot_muted(&self) -> bool {
        self.owner.is_some() || self.state == ConversationState::AwaitingAgent
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ConversationState::*;

    fn h(state: ConversationState, owner: Option<&str>) -> Handoff {
        Handoff {
            state,
            queue: Some("tier1".into()),
            owner: owner.map(str::to_owned),
        }
    }
    fn agent(n: &str) -> Actor {
        Actor::Agent(n.into())
    }
    fn request() -> Action {
        Action::Request {
            queue: "finance".into(),
            reason: "customer asked".into(),
        }
    }

    #[test]
    fn the_happy_path() {
        let t = h(Bot, None).apply(&Actor::System, &request()).unwrap();
        assert_eq!(
            (t.to, t.queue.as_deref(), t.event),
            (AwaitingAgent, Some("finance"), "handoff.queued")
        );
        let t = h(AwaitingAgent, None)
            .apply(&agent("ana"), &Action::Accept)
            .unwrap();
        assert_eq!((t.to, t.owner.as_deref()), (Assigned, Some("ana")));
        let t = h(Assigned, Some("ana"))
            .apply(&agent("ana"), &Action::Reply)
            .unwrap();
        assert_eq!((t.to, t.owner.as_deref()), (AwaitingCustomer, Some("ana")));
        let t = h(AwaitingCustomer, Some("ana"))
            .apply(&agent("ana"), &Action::Resolve)
            .unwrap();
        assert_eq!((t.to, t.owner), (Resolved, None));
        let t = h(Assigned, Some("ana"))
            .apply(&agent("ana"), &Action::ReturnToBot)
            .unwrap();
        assert_eq!(t.to, Bot);
    }

    #[test]
    fn single_owner_rules() {
        assert_eq!(
            h(Assigned, Some("ana")).apply(&agent("bo"), &Action::Accept),
            Err(HandoffError::AlreadyOwned)
        );
        assert_eq!(
            h(Assigned, Some("ana")).apply(&agent("bo"), &Action::Reply),
            Err(HandoffError::NotOwner {
                owner: "ana".into()
            })
        );
        assert!(
            h(Assigned, Some("ana"))
                .apply(&Actor::Lead("lee".into()), &Action::Reply)
                .is_ok(),
            "leads may step in"
        );
        assert_eq!(
            h(Assigned, Some("ana")).apply(&Actor::System, &Action::Reply),
            Err(HandoffError::NeedsPerson)
        );
        assert!(
            h(Bot, None).apply(&agent("ana"), &Action::Reply).is_err(),
            "no reply without accepting"
        );
        assert!(
            h(Assigned, Some("ana"))
                .apply(&Actor::System, &request())
                .is_err(),
            "already with a human"
        );
    }

    #[test]
    fn transfers() {
        let t = h(Assigned, Some("ana"))
            .apply(
                &agent("ana"),
                &Action::Transfer {
                    queue: "finance".into(),
                    to_agent: Some("bo".into()),
                },
            )
            .unwrap();
        assert_eq!(
            (t.to, t.owner.clone(), t.queue.as_deref()),
            (AwaitingAgent, None, Some("finance")),
            "agents hand back to a queue"
        );
        let t = h(Assigned, Some("ana"))
            .apply(
                &Actor::Lead("lee".into()),
                &Action::Transfer {
                    queue: "finance".into(),
                    to_agent: Some("bo".into()),
                },
            )
            .unwrap();
        assert_eq!(
            (t.to, t.owner.as_deref()),
            (Assigned, Some("bo")),
            "a lead assigns directly"
        );
        assert!(h(Assigned, Some("ana"))
            .apply(
                &agent("bo"),
                &Action::Transfer {
                    queue: "x".into(),
                    to_agent: None
                }
            )
            .is_err());
    }

    #[test]
    fn the_bot_is_muted_while_a_human_owns_or_is_awaited() {
        assert!(!h(Bot, None).bot_muted());
        assert!(h(AwaitingAgent, None).bot_muted());
        assert!(h(Assigned, Some("ana")).bot_muted());
        assert!(!h(Resolved, None).bot_muted());
    }
}
