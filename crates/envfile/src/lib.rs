//! The project's configuration files, read one way everywhere: `.env.example` (defaults) →
//! `.env` (your settings) → `.env.local` (written by `make local-infra`), later files winning.
//!
//! The files are parsed by [`dotenvy`]: `KEY=value`, `#` comments (also after a value and a
//! space), `'single'` quotes taken literally, `"double"` quotes with `\` escapes, `$VAR` and
//! `${VAR}` expanded (from the process environment, then from earlier lines of the same file).
//! A value containing spaces must be quoted.
//!
//! Two readers use [`load`]: the `with-env` binary (behind `scripts/with-env.sh`, which runs
//! services and tools) and `ticketflow-testkit`'s `setting()`. Both let the process
//! environment win over every file.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

/// The files [`load`] reads, in order; a later file's value replaces an earlier one.
pub const FILES: [&str; 3] = [".env.example", ".env", ".env.local"];

/// A file that exists but could not be read or parsed.
#[derive(Debug)]
pub struct Error {
    pub path: PathBuf,
    pub source: dotenvy::Error,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path.display(), self.source)
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.source)
    }
}

/// The values of [`FILES`] under `root`, later files winning; missing files are skipped.
/// The process environment is not consulted here (except for `$VAR` expansion): callers
/// decide how it wins.
pub fn load(root: &Path) -> Result<BTreeMap<String, String>, Error> {
    let mut values = BTreeMap::new();
    for file in FILES {
        let path = root.join(file);
        if !path.is_file() {
            continue;
        }
        values.extend(read(&path)?);
    }
    Ok(values)
}

/// The `KEY=value` pairs of one file, in order (a key set twice keeps its last value).
pub fn read(path: &Path) -> Result<Vec<(String, String)>, Error> {
    let error = |source| Error {
        path: path.to_owned(),
        source,
    };
    dotenvy::from_path_iter(path)
        .map_err(error)?
        .map(|item| item.map_err(error))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn repo_root() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
    }

    #[test]
    fn env_example_parses_with_the_values_services_expect() -> Result<(), Error> {
        let example: BTreeMap<_, _> = read(&repo_root().join(".env.example"))?
            .into_iter()
            .collect();
        let get = |k: &str| example.get(k).map(String::as_str);
        assert_eq!(
            get("SMTP_FROM"),
            Some("TicketFlow <no-reply@ticketflow.dev>")
        );
        assert_eq!(get("MONGODB_DB"), Some(""));
        assert_eq!(get("OTEL_EXPORTER_OTLP_ENDPOINT"), Some(""));
        assert_eq!(get("CORS_ORIGINS"), Some("http://localhost:5173"));
        assert_eq!(get("BIND_ADDR"), Some("127.0.0.1"));
        assert!(get("JWT_SECRET").is_some_and(|s| s.len() >= 32));
        Ok(())
    }

    #[test]
    fn later_files_win_and_missing_files_are_skipped() -> Result<(), Box<dyn std::error::Error>> {
        let dir = std::env::temp_dir().join(format!(
            "tf-envfile-{}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)?
                .as_nanos()
        ));
        std::fs::create_dir_all(&dir)?;
        std::fs::write(
            dir.join(".env.example"),
            "A=example\nB=example # a comment\nC='single $HOME'\n",
        )?;
        // No .env: skipped.
        std::fs::write(
            dir.join(".env.local"),
            "# header\nA=\"local value\"\nD=x=y\n",
        )?;
        let values = load(&dir);
        std::fs::remove_dir_all(&dir)?;
        let values = values?;
        let get = |k: &str| values.get(k).map(String::as_str);
        assert_eq!(get("A"), Some("local value"));
        assert_eq!(get("B"), Some("example"));
        assert_eq!(get("C"), Some("single $HOME"));
        assert_eq!(get("D"), Some("x=y"));
        Ok(())
    }

    #[test]
    fn an_unquoted_value_with_a_space_is_an_error_naming_the_file(
    ) -> Result<(), Box<dyn std::error::Error>> {
        let path = std::env::temp_dir().join(format!("tf-envfile-bad-{}", std::process::id()));
        std::fs::write(&path, "SMTP_FROM=TicketFlow <no-reply@ticketflow.dev>\n")?;
        let result = read(&path);
        std::fs::remove_file(&path)?;
        let text = result.err().map(|e| e.to_string()).unwrap_or_default();
        assert!(text.contains("tf-envfile-bad"), "{text}");
        Ok(())
    }
}
