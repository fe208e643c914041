//! The noise filter: messages that need no triage of their own — empty, "?", emoji only, repeats,
//! bursts, and the same text from many customers at once (spam or scam waves). Noise is never
//! deleted: the message is stored with its reason and left out of routing; waves are clustered.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};

use super::text::{for_matching, is_emoji, word_chars};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NoiseReason {
    Empty,
    PunctuationOnly,
    EmojiOnly,
    Duplicate,
    NearDuplicate,
    Burst,
    Wave,
}

impl NoiseReason {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Empty => "empty",
            Self::PunctuationOnly => "punctuation_only",
            Self::EmojiOnly => "emoji_only",
            Self::Duplicate => "duplicate",
            Self::NearDuplicate => "near_duplicate",
            Self::Burst => "burst",
            Self::Wave => "wave",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NoiseConfig {
    /// Repeats of the sender's own text within this many seconds are duplicates.
    pub duplicate_window_secs: i64,
    /// Character-trigram Jaccard similarity at or above which a text is a near duplicate.
    pub near_duplicate_similarity: f32,
    /// This many messages from one sender within `burst_window_secs` make the next one a burst.
    pub burst_count: usize,
    pub burst_window_secs: i64,
    /// The same text from this many different customers within `wave_window_secs` is a wave.
    pub wave_min_senders: usize,
    pub wave_window_secs: i64,
    /// Shorter texts ("hi", "ok") are too common to call a wave.
    pub wave_min_words: usize,
}

impl Default for NoiseConfig {
    fn default() -> Self {
        Self {
            duplicate_window_secs: 600,
            near_duplicate_similarity: 0.85,
            burst_count: 5,
            burst_window_secs: 30,
            wave_min_senders: 5,
            wave_window_secs: 3600,
            wave_min_words: 4,
        }
    }
}

/// A recent message of the same sender: Meta's timestamp and its normalised text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Recent {
    pub ts: i64,
    pub text: String,
}

pub struct NoiseContext<'a> {
    pub now: i64,
    /// The sender's earlier messages, any order.
    pub recent: &'a [Recent],
    /// Other customers who sent the same normalised text within the wave window.
    pub same_text_senders: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NoiseFinding {
    pub reason: NoiseReason,
    pub detail: String,
    /// For waves: the cluster every copy of the text joins.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster: Option<String>,
}

/// The normalised form used for duplicate and wave detection.
pub fn normalise(text: &str) -> String {
    for_matching(text).trim().to_string()
}

fn trigrams(s: &str) -> HashSet<[char; 3]> {
    let cs: Vec<char> = s.chars().collect();
    cs.windows(3).map(|w| [w[0], w[1], w[2]]).collect()
}

fn similarity(a: &str, b: &str) -> f32 {
    let (x, y) = (trigrams(a), trigrams(b));
    if x.is_empty() || y.is_empty() {
        return 0.0;
    }
    x.intersection(&y).count() as f32 / x.union(&y).count() as f32
}

/// Whether a text message is noise, and why. `cluster_id` names a wave's cluster.
pub fn classify(
    text: &str,
    ctx: &NoiseContext<'_>,
    cfg: &NoiseConfig,
    cluster_id: impl Fn(&str) -> String,
) -> Option<NoiseFinding> {
    let found = |reason: NoiseReason, detail: String| {
        Some(NoiseFinding {
            reason,
            detail,
            cluster: None,
        })
    };
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return found(NoiseReason::Empty, "no text".into());
    }
    if word_chars(trimmed) == 0 {
        return if trimmed.chars().any(is_emoji) {
            found(
                NoiseReason::EmojiOnly,
                format!("{} characters, all emoji", trimmed.chars().count()),
            )
        } else {
            found(
                NoiseReason::PunctuationOnly,
                format!("{trimmed:?} has no words"),
            )
        };
    }
    let norm = normalise(trimmed);
    let words = norm.split(' ').filter(|w| !w.is_empty()).count();
    if words >= cfg.wave_min_words && ctx.same_text_senders + 1 >= cfg.wave_min_senders {
        return Some(NoiseFinding {
            reason: NoiseReason::Wave,
            detail: format!(
                "the same text from {} customers within {} s",
                ctx.same_text_senders + 1,
                cfg.wave_window_secs
            ),
            cluster: Some(cluster_id(&norm)),
        });
    }
    let window = |secs: i64| {
        ctx.recent
            .iter()
            .filter(move |r| ctx.now - r.ts <= secs && r.ts <= ctx.now)
    };
    if let Some(r) = window(cfg.duplicate_window_secs).find(|r| r.text == norm) {
        return found(
            NoiseReason::Duplicate,
            format!("same text {} s earlier", ctx.now - r.ts),
        );
    }
    if norm.chars().count() >= 12 {
        if let Some((r, s)) = window(cfg.duplicate_window_secs)
            .map(|r| (r, similarity(&r.text, &norm)))
            .find(|(_, s)| *s >= cfg.near_duplicate_similarity)
        {
            return found(
                NoiseReason::NearDuplicate,
                format!(
                    "{:.0}% similar to a text {} s earlier",
                    s * 100.0,
                    ctx.now - r.ts
                ),
            );
        }
    }
    let burst = window(cfg.burst_window_secs).count();
    if burst >= cfg.burst_count {
        return found(
            NoiseReason::Burst,
            format!("{} messages within {} s", burst + 1, cfg.burst_window_secs),
        );
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(text: &str, recent: &[Recent], senders: usize) -> Option<NoiseReason> {
        let ctx = NoiseContext {
            now: 1_000,
            recent,
            same_text_senders: senders,
        };
        classify(text, &ctx, &NoiseConfig::default(), |t| format!("c:{t}")).map(|f| f.reason)
    }

    fn r(ts: i64, t: &str) -> Recent {
        Recent {
            ts,
            text: normalise(t),
        }
    }

    #[test]
    fn each_reason() {
        assert_eq!(check("   ", &[], 0), Some(NoiseReason::Empty));
        assert_eq!(check("?", &[], 0), Some(NoiseReason::PunctuationOnly));
        assert_eq!(check("...!!", &[], 0), Some(NoiseReason::PunctuationOnly));
        assert_eq!(check("👍🏽", &[], 0), Some(NoiseReason::EmojiOnly));
        assert_eq!(
            check("Where is my order?", &[r(900, "where is my order")], 0),
            Some(NoiseReason::Duplicate)
        );
        assert_eq!(
            check(
                "where is my order #4471??",
                &[r(950, "where is my order #4471 ?")],
                0
            ),
            Some(NoiseReason::Duplicate),
            "punctuation does not make it new"
        );
        assert_eq!(
            check(
                "where is my order number 4471",
                &[r(950, "where is my order numbr 4471")],
                0
            ),
            Some(NoiseReason::NearDuplicate)
        );
        let five: Vec<_> = (0..5)
            .map(|i| r(980 + i, &format!("message {i} about things")))
            .collect();
        assert_eq!(
            check("and another thing entirely", &five, 0),
            Some(NoiseReason::Burst)
        );
        assert_eq!(
            check("Congratulations you won a prize click here", &[], 4),
            Some(NoiseReason::Wave)
        );
    }

    #[test]
    fn not_noise() {
        assert_eq!(check("where is my order", &[], 0), None);
        assert_eq!(
            check("where is my order", &[r(1, "where is my order")], 0),
            None,
            "outside the window"
        );
        assert_eq!(
            check("hi", &[], 50),
            None,
            "short common texts are not waves"
        );
        assert_eq!(check("ok 👍", &[], 0), None);
        assert_eq!(check("مرحبا", &[], 0), None);
        let four: Vec<_> = (0..4)
            .map(|i| r(980 + i, &format!("msg {i} here now")))
            .collect();
        assert_eq!(check("one more different text", &four, 0), None);
    }

    #[test]
    fn waves_carry_their_cluster() {
        let ctx = NoiseContext {
            now: 0,
            recent: &[],
            same_text_senders: 9,
        };
        let f = classify(
            "CLAIM your FREE gift card now!!!",
            &ctx,
            &NoiseConfig::default(),
            |t| format!("c:{t}"),
        )
        .unwrap();
        assert_eq!(
            f.cluster.as_deref(),
            Some("c:claim your free gift card now")
        );
    }
}
