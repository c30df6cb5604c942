//! The audit trail (dmp-profile.md §4.8, §8 rule 43; architecture.md invariant 4): one
//! [`AuditRecord`] per transaction, allowed or refused, written by the single writer in the
//! same batch as the transaction's data change, with a copy in the durable outbox that
//! [`export`] sends to an ATNA syslog receiver (ITI-20).

pub mod atna;
pub mod export;

use xds::error::RegistryResponse;
use xds::model::{Caller, Cx, Metadata};
use xds::transaction::Transaction;

/// How a transaction ended.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum AuditOutcome {
    Success,
    /// Refused by the access policy (`codeContext` of the refusal).
    Denied(String),
    /// Refused for another reason (invalid metadata, unknown object, store failure).
    Failed(String),
}

impl AuditOutcome {
    pub fn label(&self) -> &'static str {
        match self {
            Self::Success => "allowed",
            Self::Denied(_) => "denied",
            Self::Failed(_) => "failed",
        }
    }

    /// The outcome of a RegistryResponse: a policy token at the start of the first error's
    /// `codeContext` makes it a denial.
    pub fn of(response: &RegistryResponse) -> Self {
        match response.errors.first() {
            None => Self::Success,
            Some(error) => {
                let text = format!("{}: {}", error.code.as_str(), error.code_context);
                if DENIAL_TOKENS
                    .iter()
                    .any(|token| error.code_context.starts_with(token))
                {
                    Self::Denied(text)
                } else {
                    Self::Failed(text)
                }
            }
        }
    }
}

/// The tokens that mark an access-policy refusal.
const DENIAL_TOKENS: [&str; 10] = [
    crate::access::DMP_NOT_FOUND,
    crate::access::DMP_CLOSED,
    crate::access::ACCESS_BLOCKED,
    crate::access::ACCESS_NOT_AUTHORISED,
    crate::access::ACCESS_MODE_OPPOSED,
    crate::access::AUTH_MODE_NOT_ALLOWED,
    crate::access::NOT_AUTHOR,
    xds::model::caller::VIHF_PATIENT_MISMATCH,
    xds::model::caller::VIHF_STRUCTURE_NOT_AUTHOR,
    xds::model::caller::VIHF_USER_NOT_AUTHOR,
];

/// One audited transaction. Field order is part of the stored format (append only).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct AuditRecord {
    /// Assigned by the writer: increasing, never reused.
    pub id: u64,
    /// Milliseconds since the epoch, when the transaction arrived.
    pub time_ms: i64,
    /// IHE transaction (`ITI-18`) or management operation (`DMP-setAuthorization`).
    pub transaction: String,
    /// The DMP transaction (`TD3.1`, ...), when there is one.
    pub dmp_transaction: String,
    /// Stored query id, ITI-57 action, or management command.
    pub action: String,
    /// The patient's id (CX), when known.
    pub patient: Option<String>,
    /// VIHF NameID, subject-id, roles (`code^system`), structure, sector.
    pub name_id: String,
    pub subject_name: String,
    pub roles: Vec<String>,
    pub structure_id: String,
    pub sector: String,
    pub authentication: String,
    /// `normal`, `bris_de_glace`, `centre_15`.
    pub access_mode: String,
    /// The TLS client certificate's subject, and the assertion signer's when forwarded.
    pub certificate: String,
    pub signer: String,
    /// The calling software (LPS_Nom).
    pub software: String,
    pub entry_uuids: Vec<String>,
    pub unique_ids: Vec<String>,
    pub outcome: AuditOutcome,
    /// Connexion secrète: hidden from the legal representatives' view of the history.
    pub secret: bool,
}

impl AuditRecord {
    /// A record for `caller` doing `transaction` on `patient`, outcome unknown yet.
    pub fn draft(caller: &Caller, transaction: &str, action: &str, patient: Option<&Cx>) -> Self {
        let assertion = caller.assertion.as_ref();
        let text = |value: Option<&str>| value.unwrap_or_default().to_owned();
        Self {
            id: 0,
            time_ms: now_ms(),
            transaction: transaction.to_owned(),
            dmp_transaction: dmp_transaction(transaction, action).to_owned(),
            action: action.to_owned(),
            patient: patient
                .or_else(|| assertion.and_then(|assertion| assertion.patient.as_ref()))
                .map(ToString::to_string),
            name_id: text(assertion.map(|assertion| assertion.name_id.as_str())),
            subject_name: text(assertion.map(|assertion| assertion.subject_name.as_str())),
            roles: assertion
                .map(|assertion| {
                    assertion
                        .roles
                        .iter()
                        .map(|role| format!("{}^{}", role.code, role.system))
                        .collect()
                })
                .unwrap_or_default(),
            structure_id: text(assertion.map(|assertion| assertion.structure_id.as_str())),
            sector: assertion
                .map(|assertion| format!("{}^{}", assertion.sector.code, assertion.sector.system))
                .unwrap_or_default(),
            authentication: text(assertion.map(|assertion| assertion.authentication.as_str())),
            access_mode: text(assertion.map(|assertion| assertion.access_mode.as_str())),
            certificate: text(
                caller
                    .certificate
                    .as_ref()
                    .map(|identity| identity.subject.as_str()),
            ),
            signer: text(
                caller
                    .signer
                    .as_ref()
                    .or(caller.certificate.as_ref())
                    .map(|identity| identity.subject.as_str()),
            ),
            software: text(assertion.map(|assertion| assertion.software_name.as_str())),
            entry_uuids: Vec::new(),
            unique_ids: Vec::new(),
            outcome: AuditOutcome::Success,
            secret: assertion.is_some_and(|assertion| {
                assertion.confidentiality.as_deref()
                    == Some(crate::access::INVISIBLE_REPRESENTANTS_LEGAUX)
            }),
        }
    }

    /// Records the entryUUIDs and uniqueIds of `metadata`'s objects.
    pub fn touching(mut self, metadata: &Metadata) -> Self {
        for entry in &metadata.document_entries {
            self.entry_uuids.push(entry.entry_uuid.to_string());
            if let Some(id) = &entry.unique_id {
                self.unique_ids.push(id.as_str().to_owned());
            }
        }
        for set in &metadata.submission_sets {
            self.entry_uuids.push(set.entry_uuid.to_string());
            if let Some(id) = &set.unique_id {
                self.unique_ids.push(id.as_str().to_owned());
            }
        }
        for folder in &metadata.folders {
            self.entry_uuids.push(folder.entry_uuid.to_string());
        }
        for reference in &metadata.object_refs {
            self.entry_uuids.push(reference.id.to_string());
        }
        self
    }

    /// Whether the access was made in an emergency mode (flagged in the history).
    pub fn emergency(&self) -> bool {
        self.access_mode == "bris_de_glace" || self.access_mode == "centre_15"
    }
}

/// The DMP transaction of an IHE transaction (dmp-profile.md §6).
fn dmp_transaction(transaction: &str, action: &str) -> &'static str {
    match transaction {
        "ITI-41" | "ITI-42" => "TD2.1",
        "ITI-18" => "TD3.1",
        "ITI-43" => "TD3.2",
        "ITI-57" => match action {
            "delete" => "TD3.3c",
            "archive" | "unarchive" => "TD3.3d",
            _ => "TD3.3a",
        },
        _ if transaction.starts_with("DMP-") => "TD0",
        _ => "",
    }
}

/// The audit name of an IHE transaction.
pub fn transaction_name(transaction: Transaction) -> &'static str {
    match transaction {
        Transaction::Iti41 => "ITI-41",
        Transaction::Iti42 => "ITI-42",
        Transaction::Iti18 => "ITI-18",
        Transaction::Iti43 => "ITI-43",
        Transaction::Iti57 => "ITI-57",
        Transaction::Iti62 => "ITI-62",
        Transaction::Iti86 => "ITI-86",
    }
}

/// Milliseconds since the epoch.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_millis() as i64)
}
