//! The operator's DMP commands, run on a stopped registry's data directory (`xds-registry dmp
//! ...`, `xds-registry history ...`). They go through the same writer and audit trail as the
//! network's management operations; the audit record names the operator.

use std::sync::Arc;

use xds::model::Cx;
use xds::net::daemon::{Failure, say};

use crate::access::{DmpCommand, DmpRecord, DmpStatus};
use crate::app::{DmpCli, open_store, start_registry};
use crate::audit::atna::timestamp;
use crate::config::Settings;

fn patient(id: &str, settings: &Settings) -> Result<Cx, Failure> {
    let cx = Cx::parse(id).map_err(|error| Failure::usage(format!("{id:?}: {error}")))?;
    settings
        .identity
        .check_patient_id(&cx)
        .map_err(|error| Failure::usage(format!("{id:?}: {error}")))
}

fn operator() -> String {
    format!(
        "operator:{}",
        std::env::var("USER").unwrap_or_else(|_| "unknown".to_owned())
    )
}

/// Prints a DMP record.
fn show(id: &str, record: &DmpRecord) {
    let status = match &record.status {
        DmpStatus::Active => "active".to_owned(),
        DmpStatus::Closed {
            at,
            reason_code,
            reason,
        } => format!(
            "closed {} ({reason_code}{}{reason})",
            timestamp(at * 1000),
            if reason.is_empty() { "" } else { ": " }
        ),
    };
    say(&format!(
        "DMP of {id}: {status}, opened {}",
        timestamp(record.opened_at * 1000)
    ));
    say(&format!(
        "  opposes bris_de_glace: {}, opposes centre_15: {}",
        record.oppose_emergency, record.oppose_regulator
    ));
    say(&format!(
        "  médecin traitant: {}",
        record.medecin_traitant.as_deref().unwrap_or("-")
    ));
    for (name, since) in &record.authorised {
        say(&format!(
            "  authorised: {name} since {}",
            timestamp(since * 1000)
        ));
    }
    for name in &record.blocked {
        say(&format!("  blocked: {name}"));
    }
    for name in &record.full_rights {
        say(&format!("  full rights: {name}"));
    }
}

/// Runs one `dmp` command.
pub fn run(settings: &Settings, command: DmpCli) -> Result<(), Failure> {
    let (id, change) = match command {
        DmpCli::Show { id } => {
            let cx = patient(&id, settings)?;
            let store = open_store(settings)?;
            let record = match store.patient(&cx) {
                Ok(Some(number)) => store.dmp_record(number),
                Ok(None) => Ok(None),
                Err(error) => Err(error),
            }
            .map_err(|error| Failure::runtime(error.message))?;
            return match record {
                Some(record) => {
                    show(&id, &record);
                    Ok(())
                }
                None => Err(Failure {
                    code: 2,
                    message: format!("{id}: no DMP"),
                }),
            };
        }
        DmpCli::History { id, before, limit } => {
            let cx = patient(&id, settings)?;
            let store = open_store(settings)?;
            let registry = start_registry(settings, Arc::clone(&store))?;
            let page = registry.history(&cx, before, limit, false);
            registry.close();
            let page = page.map_err(|error| Failure::runtime(error.message))?;
            for record in &page {
                let flag = if record.emergency() {
                    " [EMERGENCY]"
                } else {
                    ""
                };
                say(&format!(
                    "{} {} {} {} {} by {} ({}) mode {}{flag}: {} {}",
                    record.id,
                    timestamp(record.time_ms),
                    record.transaction,
                    record.dmp_transaction,
                    record.action,
                    if record.name_id.is_empty() {
                        &record.certificate
                    } else {
                        &record.name_id
                    },
                    record.subject_name,
                    if record.access_mode.is_empty() {
                        "-"
                    } else {
                        &record.access_mode
                    },
                    record.outcome.label(),
                    record.unique_ids.join(" "),
                ));
            }
            if page.len() == limit
                && let Some(last) = page.last()
            {
                say(&format!("more: --before {}", last.id));
            }
            return Ok(());
        }
        DmpCli::Open { id } => (id, DmpCommand::Open),
        DmpCli::Close {
            id,
            reason_code,
            reason,
        } => (
            id,
            DmpCommand::Close {
                reason_code,
                reason,
            },
        ),
        DmpCli::Authorise { id, professional } => (
            id,
            DmpCommand::Authorise {
                name_id: professional,
            },
        ),
        DmpCli::Revoke { id, professional } => (
            id,
            DmpCommand::Revoke {
                name_id: professional,
            },
        ),
        DmpCli::Block { id, professional } => (
            id,
            DmpCommand::Block {
                name_id: professional,
            },
        ),
        DmpCli::Unblock { id, professional } => (
            id,
            DmpCommand::Unblock {
                name_id: professional,
            },
        ),
        DmpCli::Oppose {
            id,
            emergency,
            regulator,
        } => (
            id,
            DmpCommand::Oppose {
                emergency,
                regulator,
            },
        ),
        DmpCli::MedecinTraitant { id, professional } => (
            id,
            DmpCommand::MedecinTraitant {
                name_id: professional,
            },
        ),
        DmpCli::FullRights {
            id,
            professional,
            revoke,
        } => (
            id,
            DmpCommand::FullRights {
                name_id: professional,
                granted: !revoke,
            },
        ),
    };
    let cx = patient(&id, settings)?;
    let store = open_store(settings)?;
    let registry = start_registry(settings, Arc::clone(&store))?;
    let result = registry.dmp_blocking(&cx, change, &operator());
    registry.close();
    drop(store);
    match result {
        Ok(record) => {
            show(&id, &record);
            Ok(())
        }
        Err(error) => Err(Failure {
            code: 3,
            message: format!("{id}: {}", error.code_context),
        }),
    }
}
