//! `xds-conformance validate FILE`: offline checks of a submission as a registry (ITI-42) or a
//! repository (ITI-41) would make them before looking at its state: decoding (SOAP envelope or
//! bare body; ebRIM 2.1 converted to 3.0 first), wire -> model, IHE structural rules and the
//! chosen profile, built by `xds_profiles::load` as the daemons build it. Prints every
//! violation with its error code, rule id and location; `--rules` prints the rule table.

use std::io::Write;
use std::process::ExitCode;

use xds::transform::{self, Options};
use xds::validate::{Profile, Receiver, Violation, validate_submission};
use xds::wire::{self, Body, DecodeError, DocumentContent, Limits, MemorySink};
use xds_profiles::ProfileConfig;

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

/// The profile settings: the `[profile]` section of `--config`, then the flags.
fn profile_config(args: &ValidateArgs) -> Result<ProfileConfig, String> {
    let mut config = match &args.config {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .map_err(|error| format!("{}: {error}", path.display()))?;
            let table: toml::Table =
                toml::from_str(&text).map_err(|error| format!("{}: {error}", path.display()))?;
            match table.get("profile") {
                Some(section) => section
                    .clone()
                    .try_into()
                    .map_err(|error| format!("{}: [profile]: {error}", path.display()))?,
                None => ProfileConfig::default(),
            }
        }
        None => ProfileConfig::default(),
    };
    if let Some(name) = &args.profile {
        config.name = name.clone();
    }
    if args.valuesets.is_some() {
        config.valuesets = args.valuesets.clone();
    }
    if args.codes.is_some() {
        config.codes = args.codes.clone();
    }
    Ok(config)
}

fn print_rules(profile: &dyn Profile) {
    for rule in xds_profiles::rules(profile) {
        let code = rule
            .code
            .map_or("(receiver metadata error)", |code| code.as_str());
        let token = rule
            .token
            .map(|token| format!(" [{token}]"))
            .unwrap_or_default();
        line(&format!(
            "{:<24} {code:<32} {}{token}",
            rule.id, rule.summary
        ));
    }
}

pub fn validate(args: &ValidateArgs) -> Result<ExitCode, String> {
    let profile = xds_profiles::load(&profile_config(args)?).map_err(|error| error.to_string())?;
    if args.rules {
        print_rules(profile.as_ref());
        return Ok(ExitCode::SUCCESS);
    }
    let Some(file) = &args.file else {
        return Err("validate needs a FILE (or --rules)".to_owned());
    };
    let raw =
        std::fs::read_to_string(file).map_err(|error| format!("{}: {error}", file.display()))?;
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
    let violations: Vec<Violation> = match decode(&text) {
        Err(error) => vec![Violation::new(
            options.metadata_error,
            "message",
            error.to_string(),
        )],
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
                        file.display(),
                        other.element_name()
                    ));
                }
            };
            match metadata {
                Err(violations) => violations,
                Ok(metadata) => validate_submission(&metadata, receiver, profile.as_ref()),
            }
        }
    };
    // One line per violation: error code, rule id (`-` for wire-form problems), location, why.
    for violation in &violations {
        line(&format!(
            "{}  {}  {}: {}",
            violation.code.as_str(),
            violation.rule.unwrap_or("-"),
            violation.location,
            violation.message
        ));
    }
    line(&format!(
        "{}: {} violation{} ({} profile, as the {} receives it)",
        file.display(),
        violations.len(),
        if violations.len() == 1 { "" } else { "s" },
        profile.name(),
        if args.repository {
            "repository"
        } else {
            "registry"
        }
    ));
    Ok(if violations.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
