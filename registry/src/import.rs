//! `xds-registry import FILE...`: bulk load of ITI-42 submissions (SubmitObjectsRequest files,
//! bare or in a SOAP envelope; directories are read for `*.xml`) through the same validation
//! and writer as the SOAP endpoint. Submissions are pipelined so that group commit batches
//! them. Resumable: a journal in the data directory lists the files fully acknowledged, and a
//! submission registered before (same SubmissionSet uniqueId, same content) answers Success
//! again without storing anything, so an interrupted import is simply run again.

use std::collections::{HashSet, VecDeque};
use std::fs::{File, OpenOptions};
use std::io::{BufReader, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use xds::ResponseStatus;
use xds::model::Metadata;
use xds::transform::{self, Options};
use xds::wire::{self, Body, MemorySink};

use crate::service::Registry;
use crate::service::writer::Reply;

/// Name of the journal of completed files, in the data directory.
pub const JOURNAL: &str = "import.journal";

/// Submissions in flight at once (enough to fill a group commit).
const WINDOW: usize = 128;

/// What an import did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportReport {
    pub files: u64,
    pub skipped_files: u64,
    pub registered: u64,
    pub rejected: u64,
    pub document_entries: u64,
    pub elapsed: Duration,
}

/// Why an import stopped.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("{path}: {message}")]
    File { path: String, message: String },
    #[error("storage: {0}")]
    Store(String),
}

/// Lists the files to import: files as given, directories expanded to their `*.xml` files
/// (recursively, sorted).
pub fn expand(paths: &[PathBuf]) -> Result<Vec<PathBuf>, ImportError> {
    let mut files = Vec::new();
    for path in paths {
        if path.is_dir() {
            let mut found = Vec::new();
            collect_xml(path, &mut found)?;
            found.sort();
            files.extend(found);
        } else if path.is_file() {
            files.push(path.clone());
        } else {
            return Err(ImportError::File {
                path: path.display().to_string(),
                message: "no such file or directory".to_owned(),
            });
        }
    }
    Ok(files)
}

fn collect_xml(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), ImportError> {
    let entries = std::fs::read_dir(dir).map_err(|error| ImportError::File {
        path: dir.display().to_string(),
        message: error.to_string(),
    })?;
    for entry in entries {
        let path = entry
            .map_err(|error| ImportError::File {
                path: dir.display().to_string(),
                message: error.to_string(),
            })?
            .path();
        if path.is_dir() {
            collect_xml(&path, out)?;
        } else if path.extension().is_some_and(|extension| extension == "xml") {
            out.push(path);
        }
    }
    Ok(())
}

/// Whether an XML file's root element is a SOAP envelope.
fn is_envelope(head: &[u8]) -> bool {
    let mut rest = head;
    loop {
        let Some(start) = rest.iter().position(|&byte| byte == b'<') else {
            return false;
        };
        rest = &rest[start + 1..];
        match rest.first() {
            Some(b'?') | Some(b'!') => continue,
            _ => break,
        }
    }
    let end = rest
        .iter()
        .position(|byte| byte.is_ascii_whitespace() || *byte == b'>' || *byte == b'/')
        .unwrap_or(rest.len());
    let name = &rest[..end];
    let local = name.rsplit(|&byte| byte == b':').next().unwrap_or(name);
    local == b"Envelope"
}

/// Reads one submission file into model metadata.
pub fn read_submission(path: &Path) -> Result<Metadata, String> {
    let mut head = [0u8; 1024];
    let count = {
        use std::io::Read;
        let mut file = File::open(path).map_err(|error| error.to_string())?;
        let mut filled = 0;
        while filled < head.len() {
            match file
                .read(&mut head[filled..])
                .map_err(|error| error.to_string())?
            {
                0 => break,
                read => filled += read,
            }
        }
        filled
    };
    let file = File::open(path).map_err(|error| error.to_string())?;
    let limits = wire::Limits::default();
    let mut sink = MemorySink::default();
    let body = if is_envelope(&head[..count]) {
        wire::decode_message(
            "application/soap+xml",
            BufReader::new(file),
            &limits,
            &mut sink,
        )
        .map_err(|error| error.to_string())?
        .envelope
        .body
    } else {
        match wire::decode_body_xml(BufReader::new(file), &limits, &mut sink)
            .map_err(|error| error.to_string())?
        {
            Body::SubmitObjects(request) => Body::SubmitObjects(request),
            other => {
                return Err(format!(
                    "the root element is {}, not SubmitObjectsRequest",
                    other.element_name()
                ));
            }
        }
    };
    let Body::SubmitObjects(request) = body else {
        return Err(format!(
            "the body is {}, not SubmitObjectsRequest",
            body.element_name()
        ));
    };
    transform::submit_objects_from_wire(&request, Options::REGISTRY).map_err(|violations| {
        violations
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("; ")
    })
}

fn read_journal(path: &Path) -> HashSet<String> {
    std::fs::read_to_string(path)
        .map(|text| text.lines().map(str::to_owned).collect())
        .unwrap_or_default()
}

/// Imports submissions from already-decoded metadata (the benchmark's generator feeds this).
/// Returns (registered, rejected) and reports each rejection to `on_reject`.
pub fn import_stream(
    registry: &Registry,
    submissions: impl Iterator<Item = Metadata>,
    mut on_progress: impl FnMut(u64, u64),
    mut on_reject: impl FnMut(&str),
) -> Result<(u64, u64), ImportError> {
    let mut in_flight: VecDeque<tokio::sync::oneshot::Receiver<Reply>> =
        VecDeque::with_capacity(WINDOW);
    let (mut registered, mut rejected) = (0u64, 0u64);
    let mut settle = |answer: tokio::sync::oneshot::Receiver<Reply>,
                      registered: &mut u64,
                      rejected: &mut u64|
     -> Result<(), ImportError> {
        match outcome(answer)? {
            Ok(()) => *registered += 1,
            Err(text) => {
                *rejected += 1;
                on_reject(&text);
            }
        }
        Ok(())
    };
    for metadata in submissions {
        if in_flight.len() >= WINDOW
            && let Some(answer) = in_flight.pop_front()
        {
            settle(answer, &mut registered, &mut rejected)?;
            on_progress(registered, rejected);
        }
        in_flight.push_back(registry.submit(metadata));
    }
    while let Some(answer) = in_flight.pop_front() {
        settle(answer, &mut registered, &mut rejected)?;
    }
    on_progress(registered, rejected);
    Ok((registered, rejected))
}

/// Imports files. Progress goes to standard error (a bar on a terminal, a line a second
/// otherwise).
pub fn import_files(
    registry: &Registry,
    data_dir: &Path,
    files: &[PathBuf],
) -> Result<ImportReport, ImportError> {
    let started = Instant::now();
    let journal_path = data_dir.join(JOURNAL);
    let done = read_journal(&journal_path);
    let mut journal = OpenOptions::new()
        .create(true)
        .append(true)
        .open(&journal_path)
        .map_err(|error| ImportError::File {
            path: journal_path.display().to_string(),
            message: error.to_string(),
        })?;
    let terminal = std::io::stderr().is_terminal();
    let mut report = ImportReport::default();
    let mut last_progress = Instant::now();
    let total = files.len();
    let mut in_flight: VecDeque<(String, tokio::sync::oneshot::Receiver<Reply>)> =
        VecDeque::with_capacity(WINDOW);
    for (index, path) in files.iter().enumerate() {
        let key = path
            .canonicalize()
            .unwrap_or_else(|_| path.clone())
            .display()
            .to_string();
        if done.contains(&key) {
            report.skipped_files += 1;
            continue;
        }
        let metadata = read_submission(path).map_err(|message| ImportError::File {
            path: path.display().to_string(),
            message,
        })?;
        report.document_entries += metadata.document_entries.len() as u64;
        in_flight.push_back((key, registry.submit(metadata)));
        if in_flight.len() >= WINDOW
            && let Some((key, answer)) = in_flight.pop_front()
        {
            settle(&mut report, &mut journal, &journal_path, key, answer)?;
        }
        if last_progress.elapsed() >= Duration::from_millis(if terminal { 200 } else { 1000 })
            || index + 1 == total
        {
            last_progress = Instant::now();
            let rate = report.registered as f64 / started.elapsed().as_secs_f64().max(1e-9);
            let mut stderr = std::io::stderr().lock();
            let line = format!(
                "[{:>3}%] {}/{} files, {} registered, {} rejected, {:.0} submissions/s",
                (index + 1) * 100 / total.max(1),
                index + 1,
                total,
                report.registered,
                report.rejected,
                rate
            );
            let _ = if terminal {
                write!(stderr, "\r{line}")
            } else {
                writeln!(stderr, "{line}")
            };
        }
    }
    while let Some((key, answer)) = in_flight.pop_front() {
        settle(&mut report, &mut journal, &journal_path, key, answer)?;
    }
    if terminal {
        let _ = writeln!(std::io::stderr());
    }
    report.elapsed = started.elapsed();
    Ok(report)
}

/// Waits for a submission's answer: `Ok(Ok)` registered, `Ok(Err(errors))` rejected, `Err`
/// the registry could not store it (the import stops).
fn outcome(
    answer: tokio::sync::oneshot::Receiver<Reply>,
) -> Result<Result<(), String>, ImportError> {
    match answer.blocking_recv() {
        Ok(Ok(response)) if response.status == ResponseStatus::Success => Ok(Ok(())),
        Ok(Ok(response)) => Ok(Err(response
            .errors
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("; "))),
        Ok(Err(error)) => Err(ImportError::Store(error.message)),
        Err(_) => Err(ImportError::Store("the registry writer stopped".to_owned())),
    }
}

/// Records the answer of one file's submission; journals the file once answered.
fn settle(
    report: &mut ImportReport,
    journal: &mut File,
    journal_path: &Path,
    key: String,
    answer: tokio::sync::oneshot::Receiver<Reply>,
) -> Result<(), ImportError> {
    match outcome(answer)? {
        Ok(()) => report.registered += 1,
        Err(text) => {
            report.rejected += 1;
            let mut stderr = std::io::stderr().lock();
            let _ = writeln!(stderr, "{key}: rejected: {text}");
        }
    }
    report.files += 1;
    writeln!(journal, "{key}")
        .and_then(|()| journal.flush())
        .map_err(|error| ImportError::File {
            path: journal_path.display().to_string(),
            message: error.to_string(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognizes_envelopes() {
        assert!(is_envelope(
            b"<?xml version='1.0'?>\n<!-- c --><s:Envelope xmlns:s='x'>"
        ));
        assert!(is_envelope(b"<Envelope>"));
        assert!(!is_envelope(b"<lcm:SubmitObjectsRequest>"));
        assert!(!is_envelope(b""));
    }
}
