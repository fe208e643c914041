//! Labelled messages from TSV files: header `text<TAB>label` (optionally `<TAB>lang`).
//!
//! Parsed as CSV with a tab delimiter, not line by line: exported data quotes texts that contain
//! tabs, quotes or newlines (`"line one\nline two"`, `""` for a quote), and a line-based reader
//! would split such a message into two broken examples.

use std::io::Read;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// One labelled message.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Example {
    pub text: String,
    pub label: String,
    /// Language tag when the file has a `lang` column (empty cells are `None`).
    pub lang: Option<String>,
}

impl Example {
    pub fn new(text: impl Into<String>, label: impl Into<String>) -> Self {
        Example {
            text: text.into(),
            label: label.into(),
            lang: None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DatasetError {
    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("malformed TSV at line {line}: {message}")]
    Malformed { line: u64, message: String },
    #[error("the header must start with text<TAB>label (optionally <TAB>lang), found {found:?}")]
    BadHeader { found: Vec<String> },
    #[error("line {line}: empty label")]
    EmptyLabel { line: u64 },
}

/// Reads a TSV file of labelled messages.
pub fn read_tsv(path: &Path) -> Result<Vec<Example>, DatasetError> {
    let file = std::fs::File::open(path).map_err(|source| DatasetError::Io {
        path: path.to_owned(),
        source,
    })?;
    parse_tsv(std::io::BufReader::new(file))
}

/// Parses TSV content (see the module docs). Rows with an empty text are kept (they are valid,
/// if useless, messages); rows with an empty label are an error.
pub fn parse_tsv<R: Read>(reader: R) -> Result<Vec<Example>, DatasetError> {
    let mut csv = csv::ReaderBuilder::new()
        .delimiter(b'\t')
        .has_headers(true)
        .flexible(true)
        .from_reader(reader);
    let header: Vec<String> = csv
        .headers()
        .map_err(|e| malformed(&e))?
        .iter()
        .map(|h| h.trim().trim_start_matches('\u{feff}').to_lowercase())
        .collect();
    let has_lang = match header
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["text", "label"] => false,
        ["text", "label", "lang", ..] => true,
        ["text", "label", ..] => false,
        _ => return Err(DatasetError::BadHeader { found: header }),
    };
    let mut out = Vec::new();
    for record in csv.records() {
        let record = record.map_err(|e| malformed(&e))?;
        let line = record.position().map_or(0, |p| p.line());
        if record.len() < 2 {
            // A blank line at the end of a file is common; anything else short is malformed.
            if record.iter().all(|f| f.trim().is_empty()) {
                continue;
            }
            return Err(DatasetError::Malformed {
                line,
                message: format!("{} field(s), expected at least 2", record.len()),
            });
        }
        let label = record[1].trim();
        if label.is_empty() {
            return Err(DatasetError::EmptyLabel { line });
        }
        let lang = if has_lang {
            record
                .get(2)
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(str::to_string)
        } else {
            None
        };
        out.push(Example {
            text: record[0].to_string(),
            label: label.to_string(),
            lang,
        });
    }
    Ok(out)
}

/// Reads a list of labels, one per line (blank lines ignored): the "known intents" of an
/// open-set fold.
pub fn read_label_list(path: &Path) -> Result<Vec<String>, DatasetError> {
    let text = std::fs::read_to_string(path).map_err(|source| DatasetError::Io {
        path: path.to_owned(),
        source,
    })?;
    Ok(text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect())
}

fn malformed(e: &csv::Error) -> DatasetError {
    let line = e.position().map_or(0, |p| p.line());
    DatasetError::Malformed {
        line,
        message: e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_quoted_newlines_tabs_and_quotes() {
        let data = "text\tlabel\nwhere is my order\torder_status\n\"line one\nline two\"\tmultiline\n\"say \"\"hi\"\"\twith tab\"\tquoted\n\n";
        let rows = parse_tsv(data.as_bytes()).unwrap();
        assert_eq!(rows.len(), 3);
        assert_eq!(rows[1], Example::new("line one\nline two", "multiline"));
        assert_eq!(rows[2].text, "say \"hi\"\twith tab");
    }

    #[test]
    fn reads_the_optional_lang_column() {
        let data = "text\tlabel\tlang\nhola\tgreet\tes\nhi\tgreet\t\n";
        let rows = parse_tsv(data.as_bytes()).unwrap();
        assert_eq!(rows[0].lang.as_deref(), Some("es"));
        assert_eq!(rows[1].lang, None);
    }

    #[test]
    fn rejects_bad_headers_and_empty_labels() {
        assert!(matches!(
            parse_tsv("sentence\tintent\nx\ty\n".as_bytes()),
            Err(DatasetError::BadHeader { .. })
        ));
        assert!(matches!(
            parse_tsv("text\tlabel\nhello\t \n".as_bytes()),
            Err(DatasetError::EmptyLabel { line: 2 })
        ));
        assert!(matches!(
            parse_tsv("text\tlabel\nno label here\n".as_bytes()),
            Err(DatasetError::Malformed { .. })
        ));
        assert!(matches!(
            read_tsv(Path::new("/nonexistent/x.tsv")),
            Err(DatasetError::Io { .. })
        ));
    }
}
