//! The operator's identity commands, run on a stopped registry's data directory: `patient add`
//! (create, with local ids), `patient show` (look up by id or local id), `patient merge`. They
//! go through the same identity policy and writer as the ITI-8 feed.

use std::sync::Arc;

use xds::model::Cx;
use xds::net::daemon::{Failure, say};

use crate::app::{PatientCommand, open_store, start_registry};
use crate::config::Settings;
use crate::identity::{IdentityCommand, IdentityOutcome, IdentityPolicy, PatientRecord};
use crate::service::{Provenance, Registry};
use crate::store::{Kind, MetadataStore, PatientNum, StoreError};

fn usage(message: impl Into<String>) -> Failure {
    Failure::usage(message)
}

fn parse(id: &str) -> Result<Cx, Failure> {
    Cx::parse(id).map_err(|error| usage(format!("{id:?}: {error}")))
}

/// A domain id as the policy accepts it.
fn domain_id(policy: &IdentityPolicy, id: &str) -> Result<Cx, Failure> {
    policy
        .check_patient_id(&parse(id)?)
        .map_err(|error| usage(format!("{id:?}: {error}")))
}

fn provenance(what: &str) -> Provenance {
    let user = std::env::var("USER").unwrap_or_else(|_| "operator".to_owned());
    Provenance {
        source: format!("xds-registry patient {what} ({user})"),
        at: xds::model::Dtm::now().to_string(),
    }
}

/// Runs one `patient` command.
pub fn run(settings: &Settings, command: PatientCommand) -> Result<(), Failure> {
    let policy = Arc::clone(&settings.identity);
    // Arguments are checked before the store is opened.
    let plan = match &command {
        PatientCommand::Add { ids, locals } => {
            if !locals.is_empty() && ids.len() != 1 {
                return Err(usage("--local links to one patient: give exactly one ID"));
            }
            let mut commands = Vec::new();
            for id in ids {
                let local_ids = locals
                    .iter()
                    .map(|local| parse(local))
                    .collect::<Result<Vec<_>, _>>()?;
                commands.push(IdentityCommand::Upsert {
                    id: domain_id(&policy, id)?,
                    local_ids,
                    identity: None,
                });
            }
            commands
        }
        PatientCommand::Merge {
            surviving,
            subsumed,
        } => vec![IdentityCommand::Merge {
            surviving: domain_id(&policy, surviving)?,
            subsumed: domain_id(&policy, subsumed)?,
        }],
        PatientCommand::Show { id } => {
            let id = parse(id)?;
            let store = open_store(settings)?;
            return show(&*store, &id);
        }
    };
    let store = open_store(settings)?;
    let registry = start_registry(settings, Arc::clone(&store))?;
    let result = apply(&registry, &*store, plan, &command);
    registry.close();
    drop(store);
    result
}

fn apply(
    registry: &Registry,
    store: &dyn MetadataStore,
    plan: Vec<IdentityCommand>,
    command: &PatientCommand,
) -> Result<(), Failure> {
    let what = match command {
        PatientCommand::Add { .. } => "add",
        PatientCommand::Merge { .. } => "merge",
        PatientCommand::Show { .. } => "show",
    };
    let mut refused = Vec::new();
    for step in plan {
        let outcome = registry
            .identity_blocking(step.clone(), None, provenance(what))
            .map_err(|error| Failure::runtime(error.message))?;
        let shown = |patient: PatientNum| -> String {
            store
                .patient_id(patient)
                .ok()
                .flatten()
                .map(|cx| cx.format())
                .unwrap_or_else(|| format!("patient {patient}"))
        };
        match outcome {
            IdentityOutcome::Created(patient) => say(&format!("created {}", shown(patient))),
            IdentityOutcome::Updated(patient) => say(&format!("updated {}", shown(patient))),
            IdentityOutcome::Unchanged(patient) => {
                say(&format!("already registered {}", shown(patient)))
            }
            IdentityOutcome::Resent => say("already applied"),
            IdentityOutcome::Merged {
                surviving,
                subsumed,
            } => say(&format!(
                "merged {} into {}",
                shown(subsumed),
                shown(surviving)
            )),
            IdentityOutcome::Refused(refusal) => refused.push(refusal.to_string()),
        }
    }
    if refused.is_empty() {
        Ok(())
    } else {
        Err(Failure {
            code: 3,
            message: format!("refused: {}", refused.join("; ")),
        })
    }
}

fn count(store: &dyn MetadataStore, patient: PatientNum) -> Result<usize, StoreError> {
    let mut count = 0;
    store.scan_patient(patient, Kind::DocumentEntry, &mut |_| {
        count += 1;
        true
    })?;
    Ok(count)
}

/// What the registry knows of a patient (`patient show`, the gRPC Identity service).
#[derive(Debug, Clone)]
pub struct PatientView {
    /// The affinity-domain id (CX text).
    pub id: String,
    /// Found through a linked local id.
    pub via_local: bool,
    /// The id it was merged into, if any.
    pub merged_into: Option<String>,
    /// Ids merged into it.
    pub merged: Vec<String>,
    pub record: PatientRecord,
    /// DocumentEntries, merged ids included.
    pub documents: usize,
}

/// Looks a patient up by its id or a linked local id (None: unknown).
pub fn lookup(store: &dyn MetadataStore, id: &Cx) -> Result<Option<PatientView>, StoreError> {
    let (patient, via_local) = match store.patient(id)? {
        Some(patient) => (patient, false),
        None => match store.local_patient(id)? {
            Some(patient) => (patient, true),
            None => return Ok(None),
        },
    };
    let display = |patient: PatientNum| -> Result<String, StoreError> {
        Ok(store
            .patient_id(patient)?
            .map(|cx| cx.format())
            .unwrap_or_else(|| format!("patient {patient}")))
    };
    let record = store
        .patient_record(patient)?
        .unwrap_or_else(|| PatientRecord {
            id: id.clone(),
            ..PatientRecord::default()
        });
    let merged_into = match store.surviving(patient)? {
        Some(surviving) => Some(display(surviving)?),
        None => None,
    };
    let merged_numbers = store.merged_into(patient)?;
    let mut documents = count(store, patient)?;
    let mut merged = Vec::new();
    for subsumed in &merged_numbers {
        documents += count(store, *subsumed)?;
        merged.push(display(*subsumed)?);
    }
    Ok(Some(PatientView {
        id: display(patient)?,
        via_local,
        merged_into,
        merged,
        record,
        documents,
    }))
}

/// Prints what the registry knows of a patient.
fn show(store: &dyn MetadataStore, id: &Cx) -> Result<(), Failure> {
    let view = lookup(store, id)
        .map_err(|error| Failure::runtime(error.message))?
        .ok_or_else(|| Failure {
            code: 2,
            message: format!("{} is not known to this registry", id.format()),
        })?;
    let record = &view.record;
    let mut lines = vec![format!("patient id: {}", view.id)];
    if view.via_local {
        lines.push(format!("found by local id: {}", id.format()));
    }
    match &view.merged_into {
        Some(surviving) => lines.push(format!(
            "state: merged into {surviving} (its documents answer under that id)"
        )),
        None => lines.push("state: active".to_owned()),
    }
    if let Some(identity) = &record.identity {
        let traits = &identity.traits;
        lines.push(format!(
            "identity status: {}",
            identity
                .status
                .map(|status| format!("{} ({})", status.code(), status.label()))
                .unwrap_or_else(|| "not given".to_owned())
        ));
        if !identity.attributes.is_empty() {
            lines.push(format!(
                "identity attributes: {}",
                identity.attributes.join(", ")
            ));
        }
        lines.push(format!("birth name: {}", traits.birth_name));
        lines.push(format!(
            "first names: {}{}{}",
            traits.first_name,
            if traits.other_first_names.is_empty() {
                ""
            } else {
                " "
            },
            traits.other_first_names
        ));
        lines.push(format!("birth date: {}", traits.birth_date));
        lines.push(format!("sex: {}", traits.sex));
        lines.push(format!("birth place (INSEE): {}", traits.birth_place));
    } else {
        lines.push("identity traits: none fed".to_owned());
    }
    for local in &record.local_ids {
        lines.push(format!("local id: {}", local.format()));
    }
    for subsumed in &view.merged {
        lines.push(format!("merged into it: {subsumed}"));
    }
    lines.push(format!("DocumentEntries: {}", view.documents));
    if !record.updated.is_empty() {
        lines.push(format!(
            "last change: {} by {}",
            record.updated, record.source
        ));
    }
    say(&lines.join("\n"));
    Ok(())
}
