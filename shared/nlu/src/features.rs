//! Features: word 1–2-grams and character 3–5-grams inside word boundaries, TF-IDF weighted.
//!
//! The two blocks answer different questions: word n-grams carry exact phrasing ("cancel
//! order"), character n-grams carry spelling variants, typos and morphology ("refnd", "reembolsar"
//! vs "reembolso") that a word vocabulary never saw. Each block is L2-normalised on its own and
//! the two are then weighted equally, so a long message's many character n-grams do not drown its
//! few words (what sklearn's `FeatureUnion` of two `TfidfVectorizer`s does).
//!
//! N-grams are identified by a 64-bit hash of their text rather than by the text itself: the
//! model file then stores 8 bytes per feature, loading needs no string allocation, and lookup is
//! a binary search in a sorted array. With at most a few hundred thousand features the chance of
//! any collision is below 10⁻⁸, and a collision would merely merge two rare n-grams.

use crate::normalise::{normalise, tokens};

/// Which block a feature belongs to (each block is normalised separately).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Block {
    Word = 0,
    Char = 1,
}

/// The n-gram ranges; stored in the model file so a model is always featurised as it was trained.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct FeatureSpec {
    /// Longest word n-gram (1 = unigrams only).
    pub word_max: u8,
    /// Shortest and longest character n-gram, counted with the word's padding spaces.
    pub char_min: u8,
    pub char_max: u8,
}

impl Default for FeatureSpec {
    fn default() -> Self {
        FeatureSpec {
            word_max: 2,
            char_min: 3,
            char_max: 5,
        }
    }
}

/// One occurrence of an n-gram in a message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Gram {
    pub hash: u64,
    pub block: Block,
}

/// Distinct n-grams of a message with their counts, sorted by hash.
pub(crate) type Counted = Vec<(Gram, u32)>;

/// Extracts and counts the n-grams of `text` (normalising it first).
pub(crate) fn count_grams(text: &str, spec: FeatureSpec) -> Counted {
    let normalised = normalise(text);
    let words: Vec<&str> = tokens(&normalised).collect();
    let mut grams = Vec::with_capacity(words.len() * 16);
    for n in 1..=usize::from(spec.word_max) {
        for window in words.windows(n) {
            grams.push(Gram {
                hash: hash_words(window),
                block: Block::Word,
            });
        }
    }
    let mut padded = String::new();
    let mut bounds = Vec::new();
    for word in &words {
        char_grams(word, spec, &mut padded, &mut bounds, &mut grams);
    }
    grams.sort_unstable();
    let mut counted: Counted = Vec::with_capacity(grams.len());
    for gram in grams {
        match counted.last_mut() {
            Some((last, count)) if *last == gram => *count += 1,
            _ => counted.push((gram, 1)),
        }
    }
    counted
}

/// Character n-grams of one word padded with spaces, as sklearn's `char_wb` analyser makes them:
/// a padded word shorter than `n` contributes itself once.
fn char_grams(
    word: &str,
    spec: FeatureSpec,
    padded: &mut String,
    bounds: &mut Vec<usize>,
    out: &mut Vec<Gram>,
) {
    padded.clear();
    padded.push(' ');
    padded.push_str(word);
    padded.push(' ');
    bounds.clear();
    bounds.extend(padded.char_indices().map(|(i, _)| i));
    bounds.push(padded.len());
    let chars = bounds.len() - 1;
    for n in usize::from(spec.char_min)..=usize::from(spec.char_max) {
        if n == 0 {
            continue;
        }
        if chars <= n {
            out.push(Gram {
                hash: hash_bytes(b'c', &[padded.as_bytes()]),
                block: Block::Char,
            });
            // Longer n would produce the same whole-word gram again.
            break;
        }
        for start in 0..=chars - n {
            let slice = &padded.as_bytes()[bounds[start]..bounds[start + n]];
            out.push(Gram {
                hash: hash_bytes(b'c', &[slice]),
                block: Block::Char,
            });
        }
    }
}

fn hash_words(window: &[&str]) -> u64 {
    let mut h = Fnv::new(b'w' + window.len() as u8);
    for (i, w) in window.iter().enumerate() {
        if i > 0 {
            h.write(b" ");
        }
        h.write(w.as_bytes());
    }
    h.finish()
}

fn hash_bytes(tag: u8, parts: &[&[u8]]) -> u64 {
    let mut h = Fnv::new(tag);
    for p in parts {
        h.write(p);
    }
    h.finish()
}

/// FNV-1a, finished with MurmurHash3's 64-bit mixer so that similar n-grams spread over the
/// whole range. Written out here (not `std::hash`) because the values are stored in model files
/// and must never change between Rust versions or platforms.
struct Fnv(u64);

impl Fnv {
    fn new(tag: u8) -> Self {
        let mut h = Fnv(0xcbf2_9ce4_8422_2325);
        h.write(&[tag]);
        h
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 ^= u64::from(b);
            self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    fn finish(&self) -> u64 {
        let mut k = self.0;
        k ^= k >> 33;
        k = k.wrapping_mul(0xff51_afd7_ed55_8ccd);
        k ^= k >> 33;
        k = k.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
        k ^ (k >> 33)
    }
}

/// The features a model knows: n-gram hashes (sorted) with their inverse document frequency.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Vocabulary {
    pub hashes: Vec<u64>,
    pub idf: Vec<f32>,
}

/// A sparse vector: feature indices ascending, values aligned.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct SparseVector {
    pub indices: Vec<u32>,
    pub values: Vec<f32>,
}

impl Vocabulary {
    /// Builds the vocabulary from the documents' n-grams: a feature must occur in at least
    /// `min_df` documents (rarer n-grams are mostly typos and names that never recur), and at most
    /// `max_features` are kept, the most frequent first, which bounds the model file's size.
    pub fn build(documents: &[&Counted], min_df: u32, max_features: usize) -> Vocabulary {
        let mut df: Vec<u64> = documents
            .iter()
            .flat_map(|d| d.iter().map(|(g, _)| g.hash))
            .collect();
        df.sort_unstable();
        let mut counts: Vec<(u64, u32)> = Vec::new();
        for h in df {
            match counts.last_mut() {
                Some((last, c)) if *last == h => *c += 1,
                _ => counts.push((h, 1)),
            }
        }
        counts.retain(|&(_, c)| c >= min_df.max(1));
        if counts.len() > max_features {
            // Most frequent first; the hash breaks ties so the choice is deterministic.
            counts.sort_unstable_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
            counts.truncate(max_features);
            counts.sort_unstable_by_key(|&(h, _)| h);
        }
        let n = documents.len() as f64;
        // sklearn's smooth idf: as if one extra document contained every feature.
        let idf = counts
            .iter()
            .map(|&(_, c)| (((1.0 + n) / (1.0 + f64::from(c))).ln() + 1.0) as f32)
            .collect();
        Vocabulary {
            hashes: counts.into_iter().map(|(h, _)| h).collect(),
            idf,
        }
    }

    pub fn len(&self) -> usize {
        self.hashes.len()
    }

    /// TF-IDF vector of one message's counted n-grams: sublinear tf (1 + ln tf), per-block L2
    /// normalisation, blocks weighted equally, unit length overall. Unknown n-grams are skipped.
    pub fn vectorise(&self, counted: &Counted) -> SparseVector {
        let mut v = SparseVector {
            indices: Vec::with_capacity(counted.len()),
            values: Vec::with_capacity(counted.len()),
        };
        let mut blocks = Vec::with_capacity(counted.len());
        let mut norms = [0f32; 2];
        // `counted` is sorted by hash and so is the vocabulary: indices come out ascending.
        for &(gram, tf) in counted {
            if let Ok(i) = self.hashes.binary_search(&gram.hash) {
                let value = (1.0 + (tf as f32).ln()) * self.idf[i];
                norms[gram.block as usize] += value * value;
                v.indices.push(i as u32);
                v.values.push(value);
                blocks.push(gram.block);
            }
        }
        let present = norms.iter().filter(|&&n| n > 0.0).count() as f32;
        let scale = norms.map(|n| {
            if n > 0.0 {
                1.0 / (n.sqrt() * present.sqrt())
            } else {
                0.0
            }
        });
        for (value, block) in v.values.iter_mut().zip(&blocks) {
            *value *= scale[*block as usize];
        }
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> FeatureSpec {
        FeatureSpec::default()
    }

    #[test]
    fn counts_word_and_char_grams() {
        let counted = count_grams("hi hi", spec());
        let words: u32 = counted
            .iter()
            .filter(|(g, _)| g.block == Block::Word)
            .map(|(_, c)| c)
            .sum();
        // unigrams "hi", "hi" and the bigram "hi hi".
        assert_eq!(words, 3);
        // " hi " is 4 chars: 3-grams " hi", "hi " and the whole padded word once for n = 4 (n = 5
        // adds nothing), per occurrence.
        let chars: u32 = counted
            .iter()
            .filter(|(g, _)| g.block == Block::Char)
            .map(|(_, c)| c)
            .sum();
        assert_eq!(chars, 6);
        assert!(
            counted.windows(2).all(|w| w[0].0 < w[1].0),
            "sorted and distinct"
        );
    }

    #[test]
    fn char_grams_match_sklearn_char_wb() {
        let mut out = Vec::new();
        char_grams(
            "order",
            spec(),
            &mut String::new(),
            &mut Vec::new(),
            &mut out,
        );
        // " order " has 7 chars: 5 trigrams, 4 four-grams, 3 five-grams.
        assert_eq!(out.len(), 12);
        let expected = hash_bytes(b'c', &[" or".as_bytes()]);
        assert!(out.iter().any(|g| g.hash == expected));
    }

    #[test]
    fn hashes_are_stable() {
        // Stored in model files: a change here silently breaks every saved model.
        assert_ne!(hash_words(&["refund"]), hash_bytes(b'c', &[b"refund"]));
        assert_ne!(hash_words(&["a", "b"]), hash_words(&["a b"]));
        // FNV-1a + fmix64 of b"c re", checked against an independent implementation.
        assert_eq!(hash_bytes(b'c', &[b" re"]), 0x8399_ce32_0512_fd08);
    }

    #[test]
    fn vectors_are_unit_length_and_skip_unknown_grams() {
        let docs: Vec<Counted> = ["where is my order", "cancel my order", "refund please"]
            .iter()
            .map(|t| count_grams(t, spec()))
            .collect();
        let refs: Vec<&Counted> = docs.iter().collect();
        let vocab = Vocabulary::build(&refs, 1, usize::MAX);
        let v = vocab.vectorise(&docs[0]);
        let norm: f32 = v.values.iter().map(|x| x * x).sum::<f32>().sqrt();
        assert!((norm - 1.0).abs() < 1e-5);
        assert!(v.indices.windows(2).all(|w| w[0] < w[1]));
        let unknown = vocab.vectorise(&count_grams("zzz qqq", spec()));
        assert!(unknown.indices.is_empty());
        // min_df = 2 keeps only what two documents share ("my", "order", "my order", …).
        let pruned = Vocabulary::build(&refs, 2, usize::MAX);
        assert!(pruned.len() < vocab.len() && !pruned.hashes.is_empty());
        let capped = Vocabulary::build(&refs, 1, 5);
        assert_eq!(capped.len(), 5);
        assert!(capped.hashes.windows(2).all(|w| w[0] < w[1]));
    }
}
