//! Identity commands (feeds, operator commands) as change sets. Runs in the single writer, so a
//! merge and a submission for the same patient never race.
//!
//! Merge rules (ITI-8, xds-spec-brief.md §8): no change when either id is unknown, both are
//! the same, or either was already subsumed; otherwise the subsumed id is recorded as merged
//! into the surviving one (chains allowed, no un-merge). Its documents stay where they are
//! filed; queries by the surviving id read both, and answers show the surviving id.

use xds::model::Cx;

use crate::identity::{
    IdentityCommand, IdentityOutcome, MessageKey, PatientRecord, Refusal, Subject, canonical,
};
use crate::store::{ChangeSet, MetadataStore, PatientNum, StoreResult};

/// Where a change came from and when, written into the record.
#[derive(Debug, Clone)]
pub struct Provenance {
    pub source: String,
    pub at: String,
}

/// The change set of one command, and its outcome. An empty change set with an applied
/// outcome means nothing new.
pub fn apply(
    store: &dyn MetadataStore,
    command: &IdentityCommand,
    message: Option<&MessageKey>,
    provenance: &Provenance,
) -> StoreResult<(ChangeSet, IdentityOutcome)> {
    let mut changes = ChangeSet::default();
    if let Some(message) = message {
        match store.feed_message(&message.key)? {
            Some(digest) if digest == message.digest => {
                return Ok((changes, IdentityOutcome::Resent));
            }
            Some(_) => {
                return Ok((
                    changes,
                    IdentityOutcome::Refused(Refusal::ControlIdReused(
                        "this message control id (MSH-10) was used before by this sender for another message"
                            .to_owned(),
                    )),
                ));
            }
            None => {}
        }
    }
    let outcome = match command {
        IdentityCommand::Upsert {
            id,
            local_ids,
            identity,
        } => upsert(store, &mut changes, id, local_ids, identity, provenance)?,
        IdentityCommand::Merge {
            surviving,
            subsumed,
        } => merge(store, &mut changes, surviving, subsumed, provenance)?,
    };
    if let (Some(message), true) = (message, outcome.is_applied()) {
        changes
            .feed_messages
            .push((message.key.clone(), message.digest));
    }
    if !outcome.is_applied() {
        changes = ChangeSet::default();
    }
    Ok((changes, outcome))
}

fn record_of(
    store: &dyn MetadataStore,
    patient: PatientNum,
    id: &Cx,
) -> StoreResult<PatientRecord> {
    Ok(store
        .patient_record(patient)?
        .unwrap_or_else(|| PatientRecord {
            id: id.clone(),
            ..PatientRecord::default()
        }))
}

fn upsert(
    store: &dyn MetadataStore,
    changes: &mut ChangeSet,
    id: &Cx,
    local_ids: &[Cx],
    identity: &Option<crate::identity::Identity>,
    provenance: &Provenance,
) -> StoreResult<IdentityOutcome> {
    let (patient, mut record, created) = match store.patient(id)? {
        Some(patient) => {
            if let Some(into) = store.surviving_id(patient)? {
                let into = into.format();
                return Ok(IdentityOutcome::Refused(Refusal::Subsumed(
                    Subject::Patient,
                    format!(
                        "patient id {} was merged into {into}; update that id instead",
                        id.format()
                    ),
                )));
            }
            (patient, record_of(store, patient, id)?, false)
        }
        None => {
            let patient = store.next_patient_num()?;
            changes.new_patients.push((patient, id.clone()));
            (
                patient,
                PatientRecord {
                    id: id.clone(),
                    ..PatientRecord::default()
                },
                true,
            )
        }
    };
    let before = record.clone();
    for local in local_ids {
        let key = canonical(local);
        if canonical(id) == key {
            continue;
        }
        let linked = store.local_patient(local)?;
        if linked != Some(patient) {
            if let Some(previous) = linked {
                tracing::warn!(
                    local_id = %local.format(),
                    previous,
                    patient,
                    "local identifier moves to another patient"
                );
            }
            changes.local_ids.push((local.clone(), patient));
        }
        if !record.local_ids.iter().any(|known| canonical(known) == key) {
            record.local_ids.push(local.clone());
        }
    }
    if let Some(identity) = identity {
        record.identity = Some(identity.clone());
    }
    if !created && record == before && changes.local_ids.is_empty() {
        return Ok(IdentityOutcome::Unchanged(patient));
    }
    record.updated = provenance.at.clone();
    record.source = provenance.source.clone();
    changes.records.push((patient, record));
    Ok(if created {
        IdentityOutcome::Created(patient)
    } else {
        IdentityOutcome::Updated(patient)
    })
}

fn merge(
    store: &dyn MetadataStore,
    changes: &mut ChangeSet,
    surviving_id: &Cx,
    subsumed_id: &Cx,
    provenance: &Provenance,
) -> StoreResult<IdentityOutcome> {
    if canonical(surviving_id) == canonical(subsumed_id) {
        return Ok(IdentityOutcome::Refused(Refusal::SameIds(format!(
            "the surviving and the subsumed ids are the same: {}",
            surviving_id.format()
        ))));
    }
    let active =
        |id: &Cx, subject: Subject, role: &str| -> StoreResult<Result<PatientNum, Refusal>> {
            let Some(patient) = store.patient(id)? else {
                return Ok(Err(Refusal::Unknown(
                    subject,
                    format!("the {role} id {} is not known to the registry", id.format()),
                )));
            };
            if let Some(into) = store.surviving_id(patient)? {
                let into = into.format();
                return Ok(Err(Refusal::Subsumed(
                    subject,
                    format!(
                        "the {role} id {} was already merged into {into}",
                        id.format()
                    ),
                )));
            }
            Ok(Ok(patient))
        };
    let surviving = match active(surviving_id, Subject::Patient, "surviving")? {
        Ok(patient) => patient,
        Err(refusal) => return Ok(IdentityOutcome::Refused(refusal)),
    };
    let subsumed = match active(subsumed_id, Subject::Subsumed, "subsumed")? {
        Ok(patient) => patient,
        Err(refusal) => return Ok(IdentityOutcome::Refused(refusal)),
    };
    let mut record = record_of(store, subsumed, subsumed_id)?;
    record.subsumed_by = Some(surviving);
    record.updated = provenance.at.clone();
    record.source = provenance.source.clone();
    changes.records.push((subsumed, record));
    changes.merges.push((subsumed, surviving));
    Ok(IdentityOutcome::Merged {
        surviving,
        subsumed,
    })
}
