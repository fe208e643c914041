//! The model file: versioned, checksummed, little-endian, loadable with a few copies.
//!
//! Layout (format version 1):
//!
//! | bytes | content |
//! |---|---|
//! | 8 | magic `SBNLU\r\n\x1a` (the PNG trick: text-mode transfers and `type` in a console break it visibly) |
//! | 4 | format version (u32) |
//! | 8 | body length (u64) |
//! | 32 | SHA-256 of the body |
//! | … | body |
//!
//! Body: feature spec (4 × u8), temperature (f32), labels (u32 count, then u32 length + UTF-8
//! each), feature count n (u32), n hashes (u64, ascending), n idf (f32), per-intent bias and scale
//! (f32 × K each), weights (i8 × n × K, feature-major), thresholds (default f32, u32 count, then
//! u32 label index + f32 each, sorted by index), training info (u32 length + JSON).
//!
//! Loading verifies the checksum before parsing, so a corrupt file fails with
//! [`ModelFileError::ChecksumMismatch`] rather than as a model that predicts garbage; the parser
//! still bounds-checks every count, so a crafted file cannot make it allocate past its own size.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::features::{FeatureSpec, Vocabulary};
use crate::model::{IntentModel, ModelInfo, QuantisedWeights};
use crate::thresholds::Thresholds;

/// The format this build writes and reads.
pub const FORMAT_VERSION: u32 = 1;
const MAGIC: &[u8; 8] = b"SBNLU\r\n\x1a";
const HEADER_LEN: usize = 8 + 4 + 8 + 32;

/// Why a model file could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ModelFileError {
    #[error("not a Switchboard NLU model file (bad magic bytes)")]
    NotAModel,
    #[error(
        "model file format version {found} is not supported; this build reads version {supported}"
    )]
    UnsupportedVersion { found: u32, supported: u32 },
    #[error("model file is truncated: {section} needs {needed} bytes, {available} left")]
    Truncated {
        section: &'static str,
        needed: usize,
        available: usize,
    },
    #[error("model file checksum mismatch: the file is corrupt")]
    ChecksumMismatch,
    #[error("model file is inconsistent: {0}")]
    Invalid(String),
    #[error("cannot read or write model file {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

impl IntentModel {
    /// Serialises the model (see the module docs for the layout).
    pub fn to_bytes(&self) -> Vec<u8> {
        let body = self.body();
        let mut out = Vec::with_capacity(HEADER_LEN + body.len());
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
        out.extend_from_slice(&(body.len() as u64).to_le_bytes());
        out.extend_from_slice(&Sha256::digest(&body));
        out.extend_from_slice(&body);
        out
    }

    /// Loads a model from [`IntentModel::to_bytes`] output.
    pub fn from_bytes(bytes: &[u8]) -> Result<IntentModel, ModelFileError> {
        if bytes.len() < MAGIC.len() || &bytes[..MAGIC.len()] != MAGIC {
            return Err(ModelFileError::NotAModel);
        }
        let mut header = Reader {
            bytes,
            pos: MAGIC.len(),
        };
        let found = header.u32("format version")?;
        if found != FORMAT_VERSION {
            return Err(ModelFileError::UnsupportedVersion {
                found,
                supported: FORMAT_VERSION,
            });
        }
        let body_len = header.u64("body length")?;
        let checksum = header.take(32, "checksum")?;
        let body = &bytes[HEADER_LEN..];
        let body_len = usize::try_from(body_len).unwrap_or(usize::MAX);
        if body.len() < body_len {
            return Err(ModelFileError::Truncated {
                section: "body",
                needed: body_len,
                available: body.len(),
            });
        }
        if body.len() > body_len {
            return Err(ModelFileError::Invalid(format!(
                "{} bytes after the body",
                body.len() - body_len
            )));
        }
        let digest = Sha256::digest(body);
        if digest.as_slice() != checksum {
            return Err(ModelFileError::ChecksumMismatch);
        }
        let mut model = parse_body(body)?;
        model.version = version_string(&digest);
        Ok(model)
    }

    /// Reads a model file from disk.
    pub fn load(path: &Path) -> Result<IntentModel, ModelFileError> {
        let bytes = std::fs::read(path).map_err(|source| ModelFileError::Io {
            path: path.to_owned(),
            source,
        })?;
        IntentModel::from_bytes(&bytes)
    }

    /// Writes the model file to disk (via a temporary file and rename, so a reader never sees
    /// half a model).
    pub fn save(&self, path: &Path) -> Result<(), ModelFileError> {
        let io = |source| ModelFileError::Io {
            path: path.to_owned(),
            source,
        };
        let mut tmp = path.as_os_str().to_owned();
        tmp.push(".tmp");
        let tmp = PathBuf::from(tmp);
        std::fs::write(&tmp, self.to_bytes()).map_err(io)?;
        std::fs::rename(&tmp, path).map_err(io)
    }

    /// Recomputes [`IntentModel::version`] after the content changed.
    pub(crate) fn refresh_version(&mut self) {
        self.version = version_string(&Sha256::digest(self.body()));
    }

    fn body(&self) -> Vec<u8> {
        let n = self.vocabulary.len();
        let k = self.labels.len();
        let mut b = Vec::with_capacity(64 + n * (12 + k) + k * 48);
        b.extend_from_slice(&[
            self.spec.word_max,
            self.spec.char_min,
            self.spec.char_max,
            0,
        ]);
        b.extend_from_slice(&self.temperature.to_le_bytes());
        put_u32(&mut b, k);
        for label in &self.labels {
            put_str(&mut b, label);
        }
        put_u32(&mut b, n);
        self.vocabulary
            .hashes
            .iter()
            .for_each(|h| b.extend_from_slice(&h.to_le_bytes()));
        self.vocabulary
            .idf
            .iter()
            .for_each(|v| b.extend_from_slice(&v.to_le_bytes()));
        self.weights
            .bias
            .iter()
            .for_each(|v| b.extend_from_slice(&v.to_le_bytes()));
        self.weights
            .scale
            .iter()
            .for_each(|v| b.extend_from_slice(&v.to_le_bytes()));
        b.extend(self.weights.values.iter().map(|&v| v as u8));
        b.extend_from_slice(&self.thresholds.default.to_le_bytes());
        // Sorted by label index so equal models serialise to equal bytes (HashMap order is random).
        let mut per_intent: Vec<(usize, f32)> = self
            .labels
            .iter()
            .enumerate()
            .filter_map(|(i, l)| self.thresholds.per_intent.get(l).map(|&t| (i, t)))
            .collect();
        per_intent.sort_by_key(|&(i, _)| i);
        put_u32(&mut b, per_intent.len());
        for (i, t) in per_intent {
            put_u32(&mut b, i);
            b.extend_from_slice(&t.to_le_bytes());
        }
        // Serialising a plain struct of numbers and strings cannot fail.
        let info = serde_json::to_string(&self.info).unwrap_or_default();
        put_str(&mut b, &info);
        b
    }
}

fn version_string(digest: &[u8]) -> String {
    format!("v{FORMAT_VERSION}-{}", hex::encode(&digest[..6]))
}

fn put_u32(b: &mut Vec<u8>, v: usize) {
    b.extend_from_slice(&(v as u32).to_le_bytes());
}

fn put_str(b: &mut Vec<u8>, s: &str) {
    put_u32(b, s.len());
    b.extend_from_slice(s.as_bytes());
}

fn parse_body(body: &[u8]) -> Result<IntentModel, ModelFileError> {
    let invalid = |m: &str| ModelFileError::Invalid(m.to_string());
    let mut r = Reader {
        bytes: body,
        pos: 0,
    };
    let spec_bytes = r.take(4, "feature spec")?;
    let spec = FeatureSpec {
        word_max: spec_bytes[0],
        char_min: spec_bytes[1],
        char_max: spec_bytes[2],
    };
    if spec.word_max > 4 || spec.char_min > spec.char_max || spec.char_max > 8 {
        return Err(invalid("feature spec out of range"));
    }
    let temperature = r.f32("temperature")?;
    if !(temperature.is_finite() && temperature > 0.0) {
        return Err(invalid("temperature is not a positive number"));
    }
    let k = r.u32("label count")? as usize;
    if k == 0 {
        return Err(invalid("no labels"));
    }
    let mut labels = Vec::with_capacity(k.min(r.remaining()));
    for _ in 0..k {
        labels.push(r.string("label")?);
    }
    let distinct: std::collections::HashSet<&String> = labels.iter().collect();
    if distinct.len() != labels.len() {
        return Err(invalid("duplicate labels"));
    }
    let n = r.u32("feature count")? as usize;
    let hashes: Vec<u64> = r
        .take(n * 8, "feature hashes")?
        .chunks_exact(8)
        .map(|c| u64::from_le_bytes(c.try_into().unwrap_or_default()))
        .collect();
    if hashes.windows(2).any(|w| w[0] >= w[1]) {
        return Err(invalid("feature hashes are not strictly ascending"));
    }
    let idf = r.f32s(n, "idf")?;
    let bias = r.f32s(k, "bias")?;
    let scale = r.f32s(k, "scale")?;
    if idf
        .iter()
        .chain(&bias)
        .chain(&scale)
        .any(|v| !v.is_finite())
    {
        return Err(invalid("non-finite weight"));
    }
    let cells = n
        .checked_mul(k)
        .ok_or_else(|| invalid("weight matrix too large"))?;
    let values: Vec<i8> = r.take(cells, "weights")?.iter().map(|&b| b as i8).collect();
    let default = r.f32("default threshold")?;
    let count = r.u32("threshold count")? as usize;
    let mut per_intent = HashMap::new();
    for _ in 0..count {
        let i = r.u32("threshold label")? as usize;
        let t = r.f32("threshold")?;
        let label = labels
            .get(i)
            .ok_or_else(|| invalid("threshold for an unknown label"))?;
        per_intent.insert(label.clone(), t);
    }
    let info: ModelInfo = serde_json::from_str(&r.string("training info")?)
        .map_err(|e| ModelFileError::Invalid(format!("training info: {e}")))?;
    if r.remaining() != 0 {
        return Err(invalid("unparsed bytes at the end of the body"));
    }
    Ok(IntentModel {
        labels,
        spec,
        vocabulary: Vocabulary { hashes, idf },
        weights: QuantisedWeights {
            values,
            scale,
            bias,
        },
        temperature,
        thresholds: Thresholds {
            default,
            per_intent,
        },
        info,
        version: String::new(),
    })
}

/// A bounds-checked cursor: every read names its section, for a useful truncation error.
struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn remaining(&self) -> usize {
        self.bytes.len() - self.pos
    }
    fn take(&mut self, needed: usize, section: &'static str) -> Result<&'a [u8], ModelFileError> {
        if needed > self.remaining() {
            return Err(ModelFileError::Truncated {
                section,
                needed,
                available: self.remaining(),
            });
        }
        let slice = &self.bytes[self.pos..self.pos + needed];
        self.pos += needed;
        Ok(slice)
    }
    fn u32(&mut self, section: &'static str) -> Result<u32, ModelFileError> {
        let b = self.take(4, section)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }
    fn u64(&mut self, section: &'static str) -> Result<u64, ModelFileError> {
        let b = self.take(8, section)?;
        Ok(u64::from_le_bytes(b.try_into().unwrap_or_default()))
    }
    fn f32(&mut self, section: &'static str) -> Result<f32, ModelFileError> {
        Ok(f32::from_bits(self.u32(section)?))
    }
    fn f32s(&mut self, count: usize, section: &'static str) -> Result<Vec<f32>, ModelFileError> {
        let bytes = self.take(count.saturating_mul(4), section)?;
        Ok(bytes
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect())
    }
    fn string(&mut self, section: &'static str) -> Result<String, ModelFileError> {
        let len = self.u32(section)? as usize;
        let bytes = self.take(len, section)?;
        String::from_utf8(bytes.to_vec())
            .map_err(|_| ModelFileError::Invalid(format!("{section} is not UTF-8")))
    }
}
