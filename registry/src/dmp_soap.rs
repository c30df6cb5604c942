//! SOAP adapter of the DMP management operations (namespace [`NS_ACCESS`], served at the
//! registry's SOAP path, dispatched on the body element and checked against wsa:Action
//! `NS_ACCESS:<operation>`):
//!
//! - `setAuthorization` (`patient`, `action` AJOUT | SUPPRESSION): professional software
//!   declares (or withdraws) the patient's consent for the assertion's user;
//! - `manageDmp` (`patient`, `command`, and per command `professional`, `reasonCode`, `reason`,
//!   `emergency`, `regulator`, `granted`): the patient (portal) or an operator console;
//! - `getDmp` (`patient`): the DMP's state;
//! - `getAccessHistory` (`patient`, optional `before` and `limit`): the access history, newest
//!   first; the answer's `next` attribute is the `before` of the next page.
//!
//! The real DMP's habilitations wire format is not public (dmp-profile.md §7 item 9); these
//! elements are this project's. Refusals answer `status="Failure"` with the XDS error code and
//! the `codeContext` token of dmp-profile.md §6.8.

use xds::XdsErrorCode;
use xds::error::RegistryError;
use xds::model::{Caller, Cx};
use xds::net::soap::{HttpAnswer, envelope_answer, fault};
use xds::wire::{Body, FaultCode, RawXml, XmlWriter, dom};

use crate::access::record::DmpCommand;
use crate::access::{DmpRecord, DmpStatus};
use crate::audit::AuditRecord;
use crate::audit::atna::timestamp;
use crate::service::Registry;

/// The namespace of the management operations.
pub const NS_ACCESS: &str = "urn:xds:dmp:access:2026";

/// Most history entries answered at once.
pub const MAX_HISTORY_PAGE: usize = 500;

fn text_of(element: &dom::Element, local: &str) -> Option<String> {
    element
        .child(NS_ACCESS, local)
        .map(|child| child.text().trim().to_owned())
        .filter(|text| !text.is_empty())
}

fn flag(element: &dom::Element, local: &str) -> Result<bool, String> {
    match text_of(element, local).as_deref() {
        None | Some("false" | "0") => Ok(false),
        Some("true" | "1") => Ok(true),
        Some(other) => Err(format!("{local} must be true or false, not {other:?}")),
    }
}

/// One management request, decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Request {
    Command(Cx, DmpCommand),
    Show(Cx),
    History {
        patient: Cx,
        before: Option<u64>,
        limit: usize,
    },
}

fn professional(element: &dom::Element) -> Result<String, String> {
    text_of(element, "professional").ok_or_else(|| "professional (NameID) is required".to_owned())
}

fn decode(element: &dom::Element, caller: &Caller) -> Result<Request, String> {
    let patient = text_of(element, "patient").ok_or("patient is required")?;
    let patient = Cx::parse(&patient).map_err(|error| format!("patient {patient:?}: {error}"))?;
    match element.local.as_str() {
        "setAuthorization" => {
            let name_id = caller
                .assertion
                .as_ref()
                .map(|assertion| assertion.name_id.clone())
                .ok_or("setAuthorization needs the professional's VIHF assertion")?;
            let command = match text_of(element, "action").as_deref() {
                Some("AJOUT") => DmpCommand::Authorise { name_id },
                Some("SUPPRESSION") => DmpCommand::Revoke { name_id },
                other => {
                    return Err(format!(
                        "action must be AJOUT or SUPPRESSION, not {:?}",
                        other.unwrap_or("")
                    ));
                }
            };
            Ok(Request::Command(patient, command))
        }
        "manageDmp" => {
            let command = match text_of(element, "command").as_deref() {
                Some("open") => DmpCommand::Open,
                Some("close") => DmpCommand::Close {
                    reason_code: text_of(element, "reasonCode").unwrap_or_default(),
                    reason: text_of(element, "reason").unwrap_or_default(),
                },
                Some("authorise") => DmpCommand::Authorise {
                    name_id: professional(element)?,
                },
                Some("revoke") => DmpCommand::Revoke {
                    name_id: professional(element)?,
                },
                Some("block") => DmpCommand::Block {
                    name_id: professional(element)?,
                },
                Some("unblock") => DmpCommand::Unblock {
                    name_id: professional(element)?,
                },
                Some("oppose") => DmpCommand::Oppose {
                    emergency: flag(element, "emergency")?,
                    regulator: flag(element, "regulator")?,
                },
                Some("medecin-traitant") => DmpCommand::MedecinTraitant {
                    name_id: text_of(element, "professional"),
                },
                Some("full-rights") => DmpCommand::FullRights {
                    name_id: professional(element)?,
                    granted: flag(element, "granted")?,
                },
                other => {
                    return Err(format!(
                        "unknown command {:?} (open, close, authorise, revoke, block, unblock, oppose, medecin-traitant, full-rights)",
                        other.unwrap_or("")
                    ));
                }
            };
            Ok(Request::Command(patient, command))
        }
        "getDmp" => Ok(Request::Show(patient)),
        "getAccessHistory" => {
            let before = match text_of(element, "before") {
                Some(text) => Some(
                    text.parse::<u64>()
                        .map_err(|_| format!("before must be a record id, not {text:?}"))?,
                ),
                None => None,
            };
            let limit = match text_of(element, "limit") {
                Some(text) => text
                    .parse::<usize>()
                    .ok()
                    .filter(|limit| (1..=MAX_HISTORY_PAGE).contains(limit))
                    .ok_or_else(|| {
                        format!("limit must be 1 to {MAX_HISTORY_PAGE}, not {text:?}")
                    })?,
                None => 50,
            };
            Ok(Request::History {
                patient,
                before,
                limit,
            })
        }
        other => Err(format!("unknown operation {other}")),
    }
}

/// Handles one management request.
pub async fn handle(
    registry: &Registry,
    caller: &Caller,
    action: Option<&str>,
    raw: &RawXml,
    relates_to: Option<String>,
) -> HttpAnswer {
    let element = match dom::parse(raw) {
        Ok(element) if element.namespace == NS_ACCESS => element,
        Ok(element) => {
            return fault(
                FaultCode::Sender,
                None,
                format!("{} is not a registry operation", element.local),
                relates_to,
            );
        }
        Err(error) => return fault(FaultCode::Sender, None, error.to_string(), relates_to),
    };
    let expected = format!("{NS_ACCESS}:{}", element.local);
    if action != Some(expected.as_str()) {
        return fault(
            FaultCode::Sender,
            Some("wsa:ActionMismatch"),
            format!(
                "the body is {} but wsa:Action is {:?}; expected {expected}",
                element.local,
                action.unwrap_or("")
            ),
            relates_to,
        );
    }
    let mut writer = XmlWriter::new();
    match decode(&element, caller) {
        Err(problem) => failure(
            &mut writer,
            &RegistryError::error(XdsErrorCode::RegistryError, problem),
        ),
        Ok(Request::Command(patient, command)) => {
            match registry.dmp_as(caller, &patient, command).await {
                Ok(record) => dmp_state(&mut writer, &record),
                Err(error) => failure(&mut writer, &error),
            }
        }
        Ok(Request::Show(patient)) => match registry.dmp_show_as(caller, &patient).await {
            Ok(Some(record)) => dmp_state(&mut writer, &record),
            Ok(None) => failure(
                &mut writer,
                &RegistryError::error(
                    XdsErrorCode::UnknownPatientId,
                    format!("{}: this patient has no DMP", crate::access::DMP_NOT_FOUND),
                ),
            ),
            Err(error) => failure(&mut writer, &error),
        },
        Ok(Request::History {
            patient,
            before,
            limit,
        }) => match registry.history_as(caller, &patient, before, limit).await {
            Ok(records) => history(&mut writer, &records, limit),
            Err(error) => failure(&mut writer, &error),
        },
    }
    let body = Body::Extension(RawXml {
        xml: writer.into_string(),
        namespaces: Vec::new(),
    });
    envelope_answer(
        &format!("{expected}Response"),
        relates_to,
        &body,
        false,
        "root.message@xds-registry",
    )
}

fn failure(writer: &mut XmlWriter, error: &RegistryError) {
    writer
        .open("a:dmpResponse")
        .attr("xmlns:a", NS_ACCESS)
        .attr("status", "Failure")
        .close();
    writer
        .open("a:error")
        .attr("code", error.code.as_str())
        .attr("context", &error.code_context)
        .close_empty();
    writer.end("a:dmpResponse");
}

fn dmp_state(writer: &mut XmlWriter, record: &DmpRecord) {
    writer
        .open("a:dmpResponse")
        .attr("xmlns:a", NS_ACCESS)
        .attr("status", "OK")
        .close();
    let opened = timestamp(record.opened_at * 1000);
    let dmp = writer.open("a:dmp");
    match &record.status {
        DmpStatus::Active => {
            dmp.attr("status", "active").attr("opened", &opened);
        }
        DmpStatus::Closed {
            at,
            reason_code,
            reason,
        } => {
            dmp.attr("status", "closed")
                .attr("opened", &opened)
                .attr("closed", &timestamp(at * 1000))
                .attr("reasonCode", reason_code)
                .attr("reason", reason);
        }
    }
    dmp.attr("opposeEmergency", bool_text(record.oppose_emergency))
        .attr("opposeRegulator", bool_text(record.oppose_regulator))
        .attr_opt("medecinTraitant", record.medecin_traitant.as_deref())
        .close();
    for (name_id, since) in &record.authorised {
        writer
            .open("a:authorised")
            .attr("professional", name_id)
            .attr("since", &timestamp(since * 1000))
            .close_empty();
    }
    for name_id in &record.blocked {
        writer
            .open("a:blocked")
            .attr("professional", name_id)
            .close_empty();
    }
    for name_id in &record.full_rights {
        writer
            .open("a:fullRights")
            .attr("professional", name_id)
            .close_empty();
    }
    writer.end("a:dmp");
    writer.end("a:dmpResponse");
}

fn bool_text(value: bool) -> &'static str {
    if value { "true" } else { "false" }
}

fn history(writer: &mut XmlWriter, records: &[AuditRecord], limit: usize) {
    let next = (records.len() == limit)
        .then(|| records.last().map(|record| record.id.to_string()))
        .flatten();
    writer
        .open("a:accessHistory")
        .attr("xmlns:a", NS_ACCESS)
        .attr("status", "OK")
        .attr_opt("next", next.as_deref())
        .close();
    for record in records {
        let detail = match &record.outcome {
            crate::audit::AuditOutcome::Success => None,
            crate::audit::AuditOutcome::Denied(reason)
            | crate::audit::AuditOutcome::Failed(reason) => Some(reason.as_str()),
        };
        writer
            .open("a:access")
            .attr("id", &record.id.to_string())
            .attr("time", &timestamp(record.time_ms))
            .attr("transaction", &record.transaction)
            .attr("dmpTransaction", &record.dmp_transaction)
            .attr("action", &record.action)
            .attr("professional", &record.name_id)
            .attr("name", &record.subject_name)
            .attr("roles", &record.roles.join(" "))
            .attr("structure", &record.structure_id)
            .attr("mode", &record.access_mode)
            .attr("emergency", bool_text(record.emergency()))
            .attr("outcome", record.outcome.label())
            .attr_opt("detail", detail)
            .attr("documents", &record.unique_ids.join(" "))
            .close_empty();
    }
    writer.end("a:accessHistory");
}
