//! `xds-conformance validate FILE`: offline checks of a submission as a registry (ITI-42) or a
//! repository (ITI-41) would make them before looking at its state: decoding (SOAP envelope or
//! bare body; ebRIM 2.1 converted to 3.0 first), wire -> model, IHE structural rules and the
//! chosen profile. Prints every violation with its location and error code.

use std::io::Write;
use std::process::ExitCode;

use xds::transform::{self, Options};
use xds::validate::{IheXdsB, Profile, Receiver, validate_submission};
use xds::wire::{self, Body, DecodeError, DocumentContent, Limits, MemorySink};

use crate::cli::ValidateArgs;

fn line(text: &str) {
    let mut stdout = std::io::stdout().lock();
    let _ = writeln!(stdout, "{text}");
}

/// Decodes a file holding a SOAP envelope (possibly MTOM) or a bare body element.
fn decode(text: &str) -> Result<Body<wire::Attachment<Vec<u8>>>, DecodeError> {
    let limits = Limits::default();
    let mut sink = MemorySink::default();
    let trimmed = text.trim_start();
    if trimmed.starts_with("--") {
        // An MTOM package saved with its boundary: find it from the first line.
        let boundary = trimmed
            .lines()
            .next()
            .map(|first| first.trim().trim_start_matches("--").to_owned())
            .unwrap_or_default();
        let content_type =
            format!("multipart/related; boundary=\"{boundary}\"; type=\"application/xop+xml\"");
        return wire::decode_message(&content_type, text.as_bytes(), &limits, &mut sink)
            .map(|message| message.envelope.body);
    }
    if trimmed.contains("Envelope") && trimmed.contains("http://www.w3.org/2003/05/soap-envelope") {
        return wire::decode_message("application/soap+xml", text.as_bytes(), &limits, &mut sink)
            .map(|message| message.envelope.body);
    }
    // A bare body: an `xop:Include` has no package to point into; only the metadata matters.
    let body = wire::decode_body_xml(std::io::BufReader::new(text.as_bytes()), &limits, &mut sink)?;
    body.try_map_content(|content| {
        Ok(match content {
            DocumentContent::Inline(attachment) => attachment,
            DocumentContent::Xop { .. } => wire::Attachment {
                handle: Vec::new(),
                size: 0,
                content_type: None,
                content_id: None,
            },
        })
    })
}

pub fn validate(args: &ValidateArgs) -> Result<ExitCode, String> {
    let profile: Box<dyn Profile> = match args.profile.as_str() {
        "ihe-xds-b" => Box::new(IheXdsB),
        other => {
            return Err(format!(
                "profile {other:?} is not available (ihe-xds-b; fr-dmp arrives with the profiles issue)"
            ));
        }
    };
    let _ = &args.valuesets;
    let raw = std::fs::read_to_string(&args.file)
        .map_err(|error| format!("{}: {error}", args.file.display()))?;
    let text = if crate::ebrim21::is_ebrim21(&raw) {
        line("note: ebRIM 2.1 input, converted to 3.0 before checking");
        crate::ebrim21::convert_submit_objects(&raw).map_err(|error| error.to_string())?
    } else {
        raw
    };
    let (receiver, options) = if args.repository {
        (Receiver::Repository, Options::REPOSITORY)
    } else {
        (Receiver::Registry, Options::REGISTRY)
    };
    let mut findings: Vec<(String, String, String)> = Vec::new();
    match decode(&text) {
        Err(error) => findings.push((
            options.metadata_error.as_str().to_owned(),
            "message".to_owned(),
            error.to_string(),
        )),
        Ok(body) => {
            let metadata = match body {
                Body::SubmitObjects(request) => {
                    transform::submit_objects_from_wire(&request, options)
                }
                Body::ProvideAndRegister(request) => {
                    transform::provide_and_register_from_wire(request, options)
                        .map(|request| request.metadata)
                }
                other => {
                    return Err(format!(
                        "{}: a {} is not a submission",
                        args.file.display(),
                        other.element_name()
                    ));
                }
            };
            match metadata {
                Err(violations) => {
                    for violation in violations {
                        let error = violation.to_registry_error();
                        findings.push((
                            error.code.as_str().to_owned(),
                            error.location.unwrap_or_default(),
                            error.code_context,
                        ));
                    }
                }
                Ok(metadata) => {
                    for error in validate_submission(&metadata, receiver, profile.as_ref()) {
                        findings.push((
                            error.code.as_str().to_owned(),
                            error.location.unwrap_or_default(),
                            error.code_context,
                        ));
                    }
                }
            }
        }
    }
    for (code, location, message) in &findings {
        line(&format!("{code}  {location}: {message}"));
    }
    line(&format!(
        "{}: {} violation{} ({} profile, as the {} receives it)",
        args.file.display(),
        findings.len(),
        if findings.len() == 1 { "" } else { "s" },
        profile.name(),
        if args.repository {
            "repository"
        } else {
            "registry"
        }
    ));
    Ok(if findings.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
