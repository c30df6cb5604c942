//! An audit record as an IHE ATNA audit message (ITI-20): the DICOM audit message XML
//! (DICOM PS3.15 A.5) inside an RFC 5424 syslog message.

use xds::wire::XmlWriter;

use super::{AuditOutcome, AuditRecord};

/// The private enterprise number of the structured-data element carrying the record id.
/// 32473 is the number RFC 5612 reserves for documentation; a deployment sets its own.
pub const DEFAULT_ENTERPRISE_NUMBER: u32 = 32473;

/// Who sends the audit messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditSource {
    /// `AuditSourceIdentification/@AuditSourceID` and the syslog HOSTNAME.
    pub source_id: String,
    /// `AuditEnterpriseSiteID`.
    pub site: String,
    /// The syslog APP-NAME.
    pub app_name: String,
    pub enterprise_number: u32,
}

impl Default for AuditSource {
    fn default() -> Self {
        Self {
            source_id: "xds-registry".to_owned(),
            site: String::new(),
            app_name: "xds-registry".to_owned(),
            enterprise_number: DEFAULT_ENTERPRISE_NUMBER,
        }
    }
}

/// (EventID code, display name, EventActionCode, EventTypeCode display) of a transaction.
fn event(record: &AuditRecord) -> (&'static str, &'static str, &'static str, &'static str) {
    match record.transaction.as_str() {
        "ITI-18" => ("110112", "Query", "E", "Registry Stored Query"),
        "ITI-41" => (
            "110107",
            "Import",
            "C",
            "Provide and Register Document Set-b",
        ),
        "ITI-42" => ("110107", "Import", "C", "Register Document Set-b"),
        "ITI-43" => ("110106", "Export", "R", "Retrieve Document Set"),
        "ITI-57" => ("110107", "Import", "U", "Update Document Set"),
        "ITI-62" => ("110110", "Patient Record", "D", "Remove Metadata"),
        _ => ("110110", "Patient Record", "U", "DMP management"),
    }
}

fn coded(writer: &mut XmlWriter, element: &str, code: &str, system: &str, text: &str) {
    writer
        .open(element)
        .attr("csd-code", code)
        .attr("codeSystemName", system)
        .attr("originalText", text)
        .close_empty();
}

/// ISO 8601 UTC with milliseconds.
pub fn timestamp(time_ms: i64) -> String {
    let seconds = time_ms.div_euclid(1000);
    let millis = time_ms.rem_euclid(1000);
    let days = seconds.div_euclid(86_400);
    let second_of_day = seconds.rem_euclid(86_400);
    // Civil date from days since 1970-01-01 (H. Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let mp = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{millis:03}Z",
        second_of_day / 3600,
        second_of_day % 3600 / 60,
        second_of_day % 60
    )
}

/// The DICOM audit message of a record.
pub fn audit_message(record: &AuditRecord, source: &AuditSource) -> String {
    let (event_id, event_name, action, type_name) = event(record);
    let outcome = match record.outcome {
        AuditOutcome::Success => "0",
        AuditOutcome::Denied(_) => "4",
        AuditOutcome::Failed(_) => "8",
    };
    let mut writer = XmlWriter::new();
    writer.raw("<?xml version=\"1.0\" encoding=\"UTF-8\"?>");
    writer.open("AuditMessage").close();
    writer
        .open("EventIdentification")
        .attr("EventActionCode", action)
        .attr("EventDateTime", &timestamp(record.time_ms))
        .attr("EventOutcomeIndicator", outcome)
        .close();
    coded(&mut writer, "EventID", event_id, "DCM", event_name);
    let (type_code, type_system) = if record.transaction.starts_with("ITI-") {
        (record.transaction.as_str(), "IHE Transactions")
    } else {
        (record.transaction.as_str(), "DMP")
    };
    coded(
        &mut writer,
        "EventTypeCode",
        type_code,
        type_system,
        type_name,
    );
    if !record.access_mode.is_empty() {
        coded(
            &mut writer,
            "PurposeOfUse",
            &record.access_mode,
            "1.2.250.1.213.1.1.4.248",
            &record.access_mode,
        );
    }
    if let AuditOutcome::Denied(reason) | AuditOutcome::Failed(reason) = &record.outcome {
        writer.text_element("EventOutcomeDescription", reason);
    }
    writer.end("EventIdentification");
    // The requestor: the professional (or the certificate when there is no assertion).
    let user = if record.name_id.is_empty() {
        record.certificate.as_str()
    } else {
        record.name_id.as_str()
    };
    writer
        .open("ActiveParticipant")
        .attr("UserID", user)
        .attr("AlternativeUserID", &record.signer)
        .attr("UserName", &record.subject_name)
        .attr("UserIsRequestor", "true")
        .close();
    for role in &record.roles {
        let (code, system) = role.split_once('^').unwrap_or((role.as_str(), ""));
        coded(&mut writer, "RoleIDCode", code, system, code);
    }
    writer.end("ActiveParticipant");
    writer
        .open("ActiveParticipant")
        .attr("UserID", &source.source_id)
        .attr("UserIsRequestor", "false")
        .close();
    coded(&mut writer, "RoleIDCode", "110152", "DCM", "Destination");
    writer.end("ActiveParticipant");
    writer
        .open("AuditSourceIdentification")
        .attr("AuditEnterpriseSiteID", &source.site)
        .attr("AuditSourceID", &source.source_id)
        .close();
    coded(
        &mut writer,
        "AuditSourceTypeCode",
        "4",
        "DCM",
        "Application Server",
    );
    writer.end("AuditSourceIdentification");
    if let Some(patient) = &record.patient {
        writer
            .open("ParticipantObjectIdentification")
            .attr("ParticipantObjectID", patient)
            .attr("ParticipantObjectTypeCode", "1")
            .attr("ParticipantObjectTypeCodeRole", "1")
            .close();
        coded(
            &mut writer,
            "ParticipantObjectIDTypeCode",
            "2",
            "RFC-3881",
            "Patient Number",
        );
        writer.end("ParticipantObjectIdentification");
    }
    for unique_id in &record.unique_ids {
        writer
            .open("ParticipantObjectIdentification")
            .attr("ParticipantObjectID", unique_id)
            .attr("ParticipantObjectTypeCode", "2")
            .attr("ParticipantObjectTypeCodeRole", "3")
            .close();
        coded(
            &mut writer,
            "ParticipantObjectIDTypeCode",
            "9",
            "RFC-3881",
            "Report Number",
        );
        writer.end("ParticipantObjectIdentification");
    }
    writer
        .open("ParticipantObjectIdentification")
        .attr("ParticipantObjectID", &record.id.to_string())
        .attr("ParticipantObjectTypeCode", "2")
        .attr("ParticipantObjectTypeCodeRole", "13")
        .close();
    coded(
        &mut writer,
        "ParticipantObjectIDTypeCode",
        "audit-record",
        "xds-registry",
        "Audit record id",
    );
    writer.end("ParticipantObjectIdentification");
    writer.end("AuditMessage");
    writer.into_string()
}

/// Escapes a structured-data parameter value (RFC 5424 §6.3.3).
fn sd_value(value: &str) -> String {
    let mut escaped = String::with_capacity(value.len());
    for character in value.chars() {
        if matches!(character, '"' | '\\' | ']') {
            escaped.push('\\');
        }
        escaped.push(character);
    }
    escaped
}

/// A syslog header field: printable US-ASCII without spaces, at most `max` characters, `-`
/// when empty.
fn header_field(value: &str, max: usize) -> String {
    let field: String = value
        .chars()
        .filter(|character| character.is_ascii_graphic())
        .take(max)
        .collect();
    if field.is_empty() {
        "-".to_owned()
    } else {
        field
    }
}

/// The RFC 5424 syslog message of a record: facility authpriv (10), severity notice (5) for
/// allowed accesses and warning (4) for refusals, MSGID `IHE+RFC-3881`, the record id as
/// structured data, the DICOM audit message as MSG (UTF-8 with BOM).
pub fn syslog_message(record: &AuditRecord, source: &AuditSource) -> Vec<u8> {
    let severity = match record.outcome {
        AuditOutcome::Success => 5,
        _ => 4,
    };
    let priority = 10 * 8 + severity;
    let header = format!(
        "<{priority}>1 {} {} {} {} IHE+RFC-3881 [audit@{} id=\"{}\" transaction=\"{}\" mode=\"{}\"] ",
        timestamp(record.time_ms),
        header_field(&source.source_id, 255),
        header_field(&source.app_name, 48),
        std::process::id(),
        source.enterprise_number,
        record.id,
        sd_value(&record.transaction),
        sd_value(&record.access_mode),
    );
    let mut message = header.into_bytes();
    message.extend_from_slice(b"\xEF\xBB\xBF");
    message.extend_from_slice(audit_message(record, source).as_bytes());
    message
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_utc_calendar_dates() {
        assert_eq!(timestamp(0), "1970-01-01T00:00:00.000Z");
        // 2024-02-29T12:34:56.789Z (a leap day).
        assert_eq!(timestamp(1_709_210_096_789), "2024-02-29T12:34:56.789Z");
        assert_eq!(timestamp(951_782_400_000), "2000-02-29T00:00:00.000Z");
    }

    #[test]
    fn structured_data_values_are_escaped() {
        assert_eq!(sd_value(r#"a"b\c]d"#), r#"a\"b\\c\]d"#);
        assert_eq!(header_field("my host", 255), "myhost");
        assert_eq!(header_field("", 48), "-");
    }
}
