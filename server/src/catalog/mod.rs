//! Catalog as code: reads the TOML file, validates it and names the file, line and field of
//! every mistake.

mod bindings;
mod raw;
pub mod store;
mod validate;
mod validate_policy;
mod validate_standard;
mod windows;

use crate::domain::Catalog;
use std::fmt;
use std::path::Path;

/// A validated catalog with the text it came from.
#[derive(Debug, Clone)]
pub struct LoadedCatalog {
    pub catalog: Catalog,
    pub source: String,
    pub checksum: String,
}

/// One mistake in a catalog file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogIssue {
    pub line: Option<usize>,
    pub field: String,
    pub message: String,
}

/// Every mistake found in one catalog file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogError {
    pub file: String,
    pub issues: Vec<CatalogIssue>,
}

impl fmt::Display for CatalogError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.issues.len();
        let plural = if n == 1 { "" } else { "s" };
        write!(f, "catalog {} has {n} error{plural}:", self.file)?;
        for issue in &self.issues {
            let place = match issue.line {
                Some(line) => format!("{}:{line}", self.file),
                None => self.file.clone(),
            };
            if issue.field.is_empty() {
                write!(f, "\n  {place}: {}", issue.message)?;
            } else {
                write!(f, "\n  {place}: {}: {}", issue.field, issue.message)?;
            }
        }
        Ok(())
    }
}

impl std::error::Error for CatalogError {}

/// Reads and validates a catalog file.
pub fn load_file(path: &Path) -> Result<LoadedCatalog, CatalogError> {
    let file = path.display().to_string();
    let source = std::fs::read_to_string(path).map_err(|e| CatalogError {
        file: file.clone(),
        issues: vec![CatalogIssue {
            line: None,
            field: String::new(),
            message: format!("cannot read the file: {e}"),
        }],
    })?;
    parse(&file, source)
}

/// Validates catalog text; `file` names it in errors.
pub fn parse(file: &str, source: String) -> Result<LoadedCatalog, CatalogError> {
    let fail = |issues| CatalogError {
        file: file.to_owned(),
        issues,
    };
    let raw: raw::RawCatalog = toml::from_str(&source).map_err(|e| {
        let line = e.span().map(|s| line_of(&source, s.start));
        fail(vec![CatalogIssue {
            line,
            field: String::new(),
            message: e.message().trim().to_owned(),
        }])
    })?;
    let catalog = validate::validate(&source, raw).map_err(fail)?;
    let checksum = checksum(&source);
    Ok(LoadedCatalog {
        catalog,
        source,
        checksum,
    })
}

pub fn checksum(source: &str) -> String {
    format!("sha256:{}", crate::domain::sha256_hex(source.as_bytes()))
}

pub(crate) fn line_of(source: &str, offset: usize) -> usize {
    source
        .get(..offset)
        .map_or(0, |s| s.bytes().filter(|b| *b == b'\n').count())
        + 1
}

#[cfg(test)]
mod fan_out_tests;
#[cfg(test)]
mod paths_tests;
#[cfg(test)]
mod tests;
