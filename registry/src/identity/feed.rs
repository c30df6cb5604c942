//! ITI-8 Patient Identity Feed (HL7 v2 ADT, xds-spec-brief.md §8): a message becomes an
//! [`IdentityCommand`] or an error, and every message gets an original-mode acknowledgement:
//! `AA` (applied), `AE` (understood, not applied: an identifier is wrong or unknown), `AR`
//! (rejected: not a message we take). Errors carry an ERR segment naming the field at fault.
//!
//! | Event | Effect |
//! |---|---|
//! | A01, A04, A05, A08, A28, A31 | create or update the PID-3 patient (traits, status, local ids) |
//! | A40 | merge MRG-1 (subsumed) into PID-3 (surviving) |

use sha1::{Digest, Sha1};
use xds::hl7v2::{Field, Message, Segment, Writer};
use xds::model::Cx;

use super::{
    IdError, Identity, IdentityCommand, IdentityOutcome, IdentityPolicy, IdentityStatus,
    MessageKey, Refusal, Subject, Traits,
};

/// Settings of the feed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedSettings {
    /// HL7 versions accepted (MSH-12).
    pub versions: Vec<String>,
    /// MSH-3 and MSH-4 of our acknowledgements.
    pub application: String,
    pub facility: String,
}

impl Default for FeedSettings {
    fn default() -> Self {
        Self {
            versions: ["2.3.1", "2.4", "2.5", "2.5.1"].map(str::to_owned).to_vec(),
            application: "XDS_REGISTRY".to_owned(),
            facility: String::new(),
        }
    }
}

/// MSA-1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AckCode {
    /// Application accept.
    Accept,
    /// Application error.
    Error,
    /// Application reject.
    Reject,
}

impl AckCode {
    pub const fn code(self) -> &'static str {
        match self {
            Self::Accept => "AA",
            Self::Error => "AE",
            Self::Reject => "AR",
        }
    }
}

/// HL7 table 0357 (message error condition codes) as we use them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCondition {
    SegmentSequence,
    RequiredFieldMissing,
    DataType,
    TableValueNotFound,
    UnsupportedMessageType,
    UnsupportedEventCode,
    UnsupportedProcessingId,
    UnsupportedVersionId,
    UnknownKey,
    DuplicateKey,
    ApplicationInternal,
}

impl ErrorCondition {
    pub const fn code(self) -> u16 {
        match self {
            Self::SegmentSequence => 100,
            Self::RequiredFieldMissing => 101,
            Self::DataType => 102,
            Self::TableValueNotFound => 103,
            Self::UnsupportedMessageType => 200,
            Self::UnsupportedEventCode => 201,
            Self::UnsupportedProcessingId => 202,
            Self::UnsupportedVersionId => 203,
            Self::UnknownKey => 204,
            Self::DuplicateKey => 205,
            Self::ApplicationInternal => 207,
        }
    }

    pub const fn text(self) -> &'static str {
        match self {
            Self::SegmentSequence => "Segment sequence error",
            Self::RequiredFieldMissing => "Required field missing",
            Self::DataType => "Data type error",
            Self::TableValueNotFound => "Table value not found",
            Self::UnsupportedMessageType => "Unsupported message type",
            Self::UnsupportedEventCode => "Unsupported event code",
            Self::UnsupportedProcessingId => "Unsupported processing id",
            Self::UnsupportedVersionId => "Unsupported version id",
            Self::UnknownKey => "Unknown key identifier",
            Self::DuplicateKey => "Duplicate key identifier",
            Self::ApplicationInternal => "Application internal error",
        }
    }
}

/// Where an error is (ERR-2: segment, sequence, field, repetition, component).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    pub segment: &'static str,
    pub field: Option<usize>,
    /// 1-based field repetition.
    pub repetition: Option<usize>,
    pub component: Option<usize>,
}

impl Location {
    pub fn field(segment: &'static str, field: usize) -> Self {
        Self {
            segment,
            field: Some(field),
            repetition: None,
            component: None,
        }
    }

    pub fn segment(segment: &'static str) -> Self {
        Self {
            segment,
            field: None,
            repetition: None,
            component: None,
        }
    }

    fn repetition(mut self, repetition: usize) -> Self {
        self.repetition = Some(repetition);
        self
    }

    fn component(mut self, component: usize) -> Self {
        self.component = Some(component);
        self
    }

    /// `PID-3[2]`, as people write it.
    pub fn describe(&self) -> String {
        let mut text = self.segment.to_owned();
        if let Some(field) = self.field {
            text.push_str(&format!("-{field}"));
            if let Some(repetition) = self.repetition {
                text.push_str(&format!("[{repetition}]"));
            }
            if let Some(component) = self.component {
                text.push_str(&format!(".{component}"));
            }
        }
        text
    }
}

/// A message that is not applied, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedError {
    pub ack: AckCode,
    pub condition: ErrorCondition,
    pub location: Option<Location>,
    pub text: String,
}

impl FeedError {
    fn reject(condition: ErrorCondition, location: Location, text: impl Into<String>) -> Self {
        Self {
            ack: AckCode::Reject,
            condition,
            location: Some(location),
            text: text.into(),
        }
    }

    fn error(condition: ErrorCondition, location: Location, text: impl Into<String>) -> Self {
        Self {
            ack: AckCode::Error,
            condition,
            location: Some(location),
            text: text.into(),
        }
    }
}

/// A message understood: the command, and the key of the message for idempotent resends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Interpreted {
    pub event: String,
    pub command: IdentityCommand,
    pub message: MessageKey,
}

const UPSERT_EVENTS: [&str; 6] = ["A01", "A04", "A05", "A08", "A28", "A31"];

/// The key of a message: sender (MSH-3, MSH-4) and control id (MSH-10). Its digest covers
/// every segment with MSH-7 (the time of sending) left out, so a resend that only refreshed
/// that time is still the same message.
fn message_key(message: &Message, control_id: &str) -> MessageKey {
    let msh = message.msh();
    let mut key = Vec::new();
    for part in [msh.raw(3), msh.raw(4), control_id] {
        key.extend_from_slice(part.as_bytes());
        key.push(0x1F);
    }
    let mut hasher = Sha1::new();
    for segment in &message.segments {
        hasher.update(segment.id.as_bytes());
        for field in 1..=segment.len() {
            if segment.id == "MSH" && field == 7 {
                continue;
            }
            hasher.update([0x1F]);
            hasher.update(segment.raw(field).as_bytes());
        }
        hasher.update([0x1E]);
    }
    MessageKey {
        key,
        digest: hasher.finalize().into(),
    }
}

/// The PID-3 (or MRG-1) repetitions as CX values.
fn identifiers(message: &Message, segment: &Segment, field: usize) -> Vec<Cx> {
    message
        .repetitions(segment, field)
        .into_iter()
        .map(|repetition| message.cx(repetition))
        .collect()
}

fn id_error(error: IdError, segment: &'static str, field: usize) -> FeedError {
    let location = Location::field(segment, field);
    match error {
        IdError::NoDomainId(text) => {
            FeedError::error(ErrorCondition::RequiredFieldMissing, location, text)
        }
        IdError::Several(text) => FeedError::error(ErrorCondition::DuplicateKey, location, text),
        IdError::Ins { index, error } => FeedError::error(
            ErrorCondition::DataType,
            location.repetition(index + 1).component(1),
            error.to_string(),
        ),
        IdError::Form { index, message } => FeedError::error(
            ErrorCondition::DataType,
            location.repetition(index + 1),
            message,
        ),
    }
}

/// The identity traits and status in PID (PAM-FR conventions: the legal name `L` carries the
/// birth name; PID-11 of type `BDL` the birth place; PID-32 the identity reliability codes).
fn identity(message: &Message, pid: &Segment) -> Result<Identity, FeedError> {
    let names: Vec<_> = message
        .repetitions(pid, 5)
        .into_iter()
        .map(|repetition| message.composite(repetition))
        .collect();
    let legal = names
        .iter()
        .find(|name| name.component(7) == "L")
        .or_else(|| names.first());
    let birth_date = message.value(pid, 7, 1);
    let date = birth_date.get(..8.min(birth_date.len())).unwrap_or("");
    if !birth_date.is_empty() && (date.len() < 4 || !date.bytes().all(|byte| byte.is_ascii_digit()))
    {
        return Err(FeedError::error(
            ErrorCondition::DataType,
            Location::field("PID", 7),
            format!("PID-7 {birth_date:?} is not a date (YYYY[MM[DD]])"),
        ));
    }
    let sex = message.value(pid, 8, 1);
    if !sex.is_empty() && !["M", "F", "U", "O", "A", "N"].contains(&sex.as_str()) {
        return Err(FeedError::error(
            ErrorCondition::TableValueNotFound,
            Location::field("PID", 8),
            format!("PID-8 {sex:?} is not an administrative sex of HL7 table 0001"),
        ));
    }
    let birth_place = message
        .repetitions(pid, 11)
        .into_iter()
        .map(|repetition| message.composite(repetition))
        .find(|address| address.component(7) == "BDL")
        .map(|address| address.component(9).to_owned())
        .unwrap_or_default();
    let mut status = None;
    let mut attributes = Vec::new();
    for repetition in message.repetitions(pid, 32) {
        let code = message.composite(repetition).component(1).to_owned();
        match IdentityStatus::from_code(&code) {
            Some(found) => status = Some(found),
            None if !code.is_empty() => attributes.push(code),
            None => {}
        }
    }
    Ok(Identity {
        traits: Traits {
            birth_name: legal
                .map(|name| name.get(1, 1).to_owned())
                .unwrap_or_default(),
            first_name: legal
                .map(|name| name.component(2).to_owned())
                .unwrap_or_default(),
            other_first_names: legal
                .map(|name| name.component(3).to_owned())
                .unwrap_or_default(),
            birth_date: date.to_owned(),
            sex,
            birth_place,
        },
        status,
        attributes,
    })
}

/// Reads a parsed message. Header problems are rejections (AR); content problems are errors
/// (AE).
pub fn interpret(
    message: &Message,
    policy: &IdentityPolicy,
    settings: &FeedSettings,
) -> Result<Interpreted, FeedError> {
    let msh = message.msh();
    let message_type = message.value(msh, 9, 1);
    let event = message.value(msh, 9, 2);
    let version = message.value(msh, 12, 1);
    let control_id = message.value(msh, 10, 1);
    if message_type.is_empty() {
        return Err(FeedError::reject(
            ErrorCondition::RequiredFieldMissing,
            Location::field("MSH", 9),
            "MSH-9 (message type) is required",
        ));
    }
    if message_type != "ADT" {
        return Err(FeedError::reject(
            ErrorCondition::UnsupportedMessageType,
            Location::field("MSH", 9).component(1),
            format!(
                "message type {message_type:?} is not taken here: the patient identity feed takes ADT"
            ),
        ));
    }
    if !UPSERT_EVENTS.contains(&event.as_str()) && event != "A40" {
        return Err(FeedError::reject(
            ErrorCondition::UnsupportedEventCode,
            Location::field("MSH", 9).component(2),
            format!(
                "ADT event {event:?} is not taken: A01, A04, A05, A08, A28, A31 (create or update) and A40 (merge) are"
            ),
        ));
    }
    if !settings.versions.contains(&version) {
        return Err(FeedError::reject(
            ErrorCondition::UnsupportedVersionId,
            Location::field("MSH", 12),
            format!(
                "HL7 version {version:?} is not taken: {} are",
                settings.versions.join(", ")
            ),
        ));
    }
    let processing = message.value(msh, 11, 1);
    if !["P", "T", "D"].contains(&processing.as_str()) {
        return Err(FeedError::reject(
            ErrorCondition::UnsupportedProcessingId,
            Location::field("MSH", 11),
            format!("MSH-11 processing id {processing:?} is not P, T or D"),
        ));
    }
    if control_id.is_empty() {
        return Err(FeedError::reject(
            ErrorCondition::RequiredFieldMissing,
            Location::field("MSH", 10),
            "MSH-10 (message control id) is required",
        ));
    }
    let Some(pid) = message.segment("PID") else {
        return Err(FeedError::error(
            ErrorCondition::SegmentSequence,
            Location::segment("PID"),
            "the PID segment is required",
        ));
    };
    let ids = identifiers(message, pid, 3);
    if ids.is_empty() {
        return Err(FeedError::error(
            ErrorCondition::RequiredFieldMissing,
            Location::field("PID", 3),
            "PID-3 (patient identifier list) is required",
        ));
    }
    let (patient, local_ids) = policy
        .split(&ids)
        .map_err(|error| id_error(error, "PID", 3))?;
    let command = if event == "A40" {
        let Some(mrg) = message.segment("MRG") else {
            return Err(FeedError::error(
                ErrorCondition::SegmentSequence,
                Location::segment("MRG"),
                "an A40 merge needs the MRG segment (MRG-1: the subsumed id)",
            ));
        };
        let prior = identifiers(message, mrg, 1);
        if prior.is_empty() {
            return Err(FeedError::error(
                ErrorCondition::RequiredFieldMissing,
                Location::field("MRG", 1),
                "MRG-1 (prior patient identifier list) is required",
            ));
        }
        let (subsumed, _) = policy
            .split(&prior)
            .map_err(|error| id_error(error, "MRG", 1))?;
        IdentityCommand::Merge {
            surviving: patient,
            subsumed,
        }
    } else {
        IdentityCommand::Upsert {
            id: patient,
            local_ids,
            identity: Some(identity(message, pid)?),
        }
    };
    Ok(Interpreted {
        event,
        command,
        message: message_key(message, &control_id),
    })
}

/// The error a refused command answers with.
pub fn refusal_error(refusal: &Refusal) -> FeedError {
    let location = match refusal.subject() {
        Subject::Patient => Some(Location::field("PID", 3)),
        Subject::Subsumed => Some(Location::field("MRG", 1)),
        Subject::Message => Some(Location::field("MSH", 10)),
    };
    let condition = match refusal {
        Refusal::Unknown(..) | Refusal::Subsumed(..) => ErrorCondition::UnknownKey,
        Refusal::SameIds(_) | Refusal::ControlIdReused(_) => ErrorCondition::DuplicateKey,
    };
    FeedError {
        ack: AckCode::Error,
        condition,
        location,
        text: refusal.to_string(),
    }
}

/// The acknowledgement of a message (or of bytes that were not one: `message` is `None`).
/// `control_id` is the ACK's own MSH-10, `now` its MSH-7.
pub fn acknowledge(
    message: Option<&Message>,
    result: Result<&IdentityOutcome, &FeedError>,
    settings: &FeedSettings,
    control_id: &str,
    now: &str,
) -> String {
    let field = |number: usize, component: usize| -> String {
        message
            .map(|message| message.value(message.msh(), number, component))
            .unwrap_or_default()
    };
    let version = match field(12, 1) {
        version if settings.versions.contains(&version) => version,
        _ => "2.5".to_owned(),
    };
    let event = field(9, 2);
    let old_style = version == "2.3.1";
    let sender_application = message
        .map(|message| message.composite(message.msh().raw(3)))
        .unwrap_or_default();
    let sender_facility = message
        .map(|message| message.composite(message.msh().raw(4)))
        .unwrap_or_default();
    let mut writer = Writer::new();
    let message_type: Vec<&str> = if old_style {
        vec!["ACK", event.as_str()]
    } else {
        vec!["ACK", event.as_str(), "ACK"]
    };
    let processing = match field(11, 1) {
        processing if ["P", "T", "D"].contains(&processing.as_str()) => processing,
        _ => "P".to_owned(),
    };
    writer.header(&[
        Field::Text(&settings.application),
        Field::Text(&settings.facility),
        Field::Composite(&sender_application),
        Field::Composite(&sender_facility),
        Field::Text(now),
        Field::Empty,
        Field::Components(message_type),
        Field::Text(control_id),
        Field::Text(&processing),
        Field::Text(&version),
    ]);
    let their_control_id = field(10, 1);
    match result {
        Ok(_) => {
            writer.segment("MSA", &[Field::Text("AA"), Field::Text(&their_control_id)]);
        }
        Err(error) => {
            writer.segment(
                "MSA",
                &[
                    Field::Text(error.ack.code()),
                    Field::Text(&their_control_id),
                    Field::Text(&error.text),
                ],
            );
            let code = error.condition.code().to_string();
            let location = error.location.as_ref();
            let field_number = location
                .and_then(|location| location.field)
                .map(|field| field.to_string())
                .unwrap_or_default();
            let repetition = location
                .and_then(|location| location.repetition)
                .map(|repetition| repetition.to_string())
                .unwrap_or_default();
            let component = location
                .and_then(|location| location.component)
                .map(|component| component.to_string())
                .unwrap_or_default();
            let segment = location.map(|location| location.segment).unwrap_or("");
            let sequence = if segment.is_empty() { "" } else { "1" };
            // ERR-1 (ELD) for 2.3.1/2.4 readers; ERR-2 (ERL), ERR-3, ERR-4, ERR-8 from 2.5.
            let eld_composite = xds::model::Composite::from_components(vec![
                vec![segment.to_owned()],
                vec![sequence.to_owned()],
                vec![field_number.clone()],
                vec![
                    code.clone(),
                    error.condition.text().to_owned(),
                    "HL70357".to_owned(),
                ],
            ]);
            let element_location = if segment.is_empty() {
                Field::Empty
            } else {
                Field::Components(vec![
                    segment,
                    sequence,
                    field_number.as_str(),
                    repetition.as_str(),
                    component.as_str(),
                ])
            };
            writer.segment(
                "ERR",
                &[
                    if version == "2.5" || version == "2.5.1" {
                        Field::Empty
                    } else {
                        Field::Composite(&eld_composite)
                    },
                    element_location,
                    Field::Components(vec![code.as_str(), error.condition.text(), "HL70357"]),
                    Field::Text("E"),
                    Field::Empty,
                    Field::Empty,
                    Field::Empty,
                    Field::Text(&error.text),
                ],
            );
        }
    }
    writer.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Message {
        Message::parse(text.replace('\n', "\r").as_bytes()).expect("HL7")
    }

    fn a01(pid3: &str) -> String {
        format!(
            "MSH|^~\\&|HIS|HOSP|XDS|DMP|20261122120000||ADT^A01^ADT_A01|C1|P|2.5\nEVN||20261122\nPID|||{pid3}||DUPONT^Jean^Paul Marie^^^^L~MARTIN^Jean^^^^^D||19850501|M|||1 rue X^^Paris^^75001^^H~^^^^^^BDL^^78006|||||||||||||||||||||VALI~DOUTE\n"
        )
    }

    fn production() -> IdentityPolicy {
        IdentityPolicy::default()
    }

    #[test]
    fn a01_becomes_an_upsert_with_traits_status_and_local_ids() {
        let message = parse(&a01(
            "IPP7^^^HOSP&1.2.250.1.999.1&ISO^PI~185057800608491^^^&1.2.250.1.213.1.4.8&ISO^INS",
        ));
        let interpreted =
            interpret(&message, &production(), &FeedSettings::default()).expect("taken");
        assert_eq!(interpreted.event, "A01");
        let IdentityCommand::Upsert {
            id,
            local_ids,
            identity,
        } = interpreted.command
        else {
            panic!("not an upsert");
        };
        assert_eq!(id.format(), "185057800608491^^^&1.2.250.1.213.1.4.8&ISO^NH");
        assert_eq!(local_ids.len(), 1);
        let identity = identity.expect("identity");
        assert_eq!(identity.traits.birth_name, "DUPONT");
        assert_eq!(identity.traits.first_name, "Jean");
        assert_eq!(identity.traits.other_first_names, "Paul Marie");
        assert_eq!(identity.traits.birth_date, "19850501");
        assert_eq!(identity.traits.sex, "M");
        assert_eq!(identity.traits.birth_place, "78006");
        assert_eq!(identity.status, Some(IdentityStatus::Validated));
        assert_eq!(identity.attributes, vec!["DOUTE".to_owned()]);
    }

    #[test]
    fn header_problems_are_rejected_and_name_the_field() {
        let cases = [
            ("ORU^R01", ErrorCondition::UnsupportedMessageType, "MSH-9.1"),
            ("ADT^A99", ErrorCondition::UnsupportedEventCode, "MSH-9.2"),
        ];
        for (message_type, condition, location) in cases {
            let text = a01("185057800608491^^^&1.2.250.1.213.1.4.8&ISO")
                .replace("ADT^A01^ADT_A01", message_type);
            let error = interpret(&parse(&text), &production(), &FeedSettings::default())
                .expect_err("rejected");
            assert_eq!(error.ack, AckCode::Reject);
            assert_eq!(error.condition, condition);
            assert_eq!(error.location.expect("located").describe(), location);
        }
        let text = a01("185057800608491^^^&1.2.250.1.213.1.4.8&ISO").replace("|P|2.5", "|P|3.0");
        let error =
            interpret(&parse(&text), &production(), &FeedSettings::default()).expect_err("version");
        assert_eq!(error.condition, ErrorCondition::UnsupportedVersionId);
        assert!(error.text.contains("3.0"), "{}", error.text);
    }

    #[test]
    fn content_problems_are_errors_naming_the_field() {
        let settings = FeedSettings::default();
        let missing = a01("");
        let error = interpret(&parse(&missing), &production(), &settings).expect_err("no PID-3");
        assert_eq!(
            (error.ack, error.condition),
            (AckCode::Error, ErrorCondition::RequiredFieldMissing)
        );
        assert_eq!(error.location.expect("located").describe(), "PID-3");
        let test_ins = a01("IPP^^^&1.2.3&ISO~185057800608491^^^&1.2.250.1.213.1.4.10&ISO");
        let error = interpret(&parse(&test_ins), &production(), &settings).expect_err("test INS");
        assert_eq!(error.location.expect("located").describe(), "PID-3[2].1");
        assert!(
            error.text.contains("1.2.250.1.213.1.4.10"),
            "{}",
            error.text
        );
        let bad_key = a01("185057800608492^^^&1.2.250.1.213.1.4.8&ISO");
        let error = interpret(&parse(&bad_key), &production(), &settings).expect_err("key");
        assert!(error.text.contains("185057800608492"), "{}", error.text);
        let bad_sex = a01("185057800608491^^^&1.2.250.1.213.1.4.8&ISO").replace("|M|", "|X|");
        let error = interpret(&parse(&bad_sex), &production(), &settings).expect_err("sex");
        assert_eq!(error.location.expect("located").describe(), "PID-8");
        let no_mrg =
            a01("185057800608491^^^&1.2.250.1.213.1.4.8&ISO").replace("A01^ADT_A01", "A40^ADT_A39");
        let error = interpret(&parse(&no_mrg), &production(), &settings).expect_err("MRG");
        assert_eq!(error.location.expect("located").describe(), "MRG");
    }

    #[test]
    fn a40_merges_mrg1_into_pid3() {
        let text = "MSH|^~\\&|HIS|HOSP|XDS|DMP|20261122||ADT^A40^ADT_A39|M1|P|2.5\nEVN||20261122\nPID|||185057800608491^^^&1.2.250.1.213.1.4.8&ISO\nMRG|292042A00401249^^^&1.2.250.1.213.1.4.8&ISO\n";
        let interpreted =
            interpret(&parse(text), &production(), &FeedSettings::default()).expect("merge");
        assert_eq!(
            interpreted.command,
            IdentityCommand::Merge {
                surviving: Cx::parse("185057800608491^^^&1.2.250.1.213.1.4.8&ISO^NH").expect("CX"),
                subsumed: Cx::parse("292042A00401249^^^&1.2.250.1.213.1.4.8&ISO^NH").expect("CX"),
            }
        );
    }

    #[test]
    fn resends_share_a_key_and_digest_whatever_their_send_time() {
        let first = parse(&a01("185057800608491^^^&1.2.250.1.213.1.4.8&ISO"));
        let again = parse(
            &a01("185057800608491^^^&1.2.250.1.213.1.4.8&ISO")
                .replace("|20261122120000||ADT", "|20261122130000||ADT"),
        );
        let changed =
            parse(&a01("185057800608491^^^&1.2.250.1.213.1.4.8&ISO").replace("|M|", "|F|"));
        let settings = FeedSettings::default();
        let key = |message: &Message| {
            interpret(message, &production(), &settings)
                .expect("taken")
                .message
        };
        assert_eq!(key(&first), key(&again));
        assert_eq!(key(&first).key, key(&changed).key);
        assert_ne!(key(&first).digest, key(&changed).digest);
    }

    #[test]
    fn acknowledgements_answer_the_sender_and_locate_errors() {
        let message = parse(&a01("185057800608491^^^&1.2.250.1.213.1.4.8&ISO"));
        let settings = FeedSettings::default();
        let ack = acknowledge(
            Some(&message),
            Ok(&IdentityOutcome::Created(1)),
            &settings,
            "ACK1",
            "20261122120001",
        );
        let parsed = Message::parse(ack.as_bytes()).expect("ACK parses");
        let msh = parsed.msh();
        assert_eq!(parsed.value(msh, 5, 1), "HIS");
        assert_eq!(parsed.value(msh, 9, 1), "ACK");
        assert_eq!(parsed.value(msh, 9, 2), "A01");
        let msa = parsed.segment("MSA").expect("MSA");
        assert_eq!(parsed.value(msa, 1, 1), "AA");
        assert_eq!(parsed.value(msa, 2, 1), "C1");
        assert!(parsed.segment("ERR").is_none());

        let error = FeedError::error(
            ErrorCondition::DataType,
            Location::field("PID", 3).repetition(2).component(1),
            "INS matricule \"x\" has 1 characters",
        );
        let ack = acknowledge(Some(&message), Err(&error), &settings, "ACK2", "20261122");
        let parsed = Message::parse(ack.as_bytes()).expect("ACK parses");
        let msa = parsed.segment("MSA").expect("MSA");
        assert_eq!(parsed.value(msa, 1, 1), "AE");
        let err = parsed.segment("ERR").expect("ERR");
        let location = parsed.composite(err.raw(2));
        assert_eq!(
            (
                location.component(1),
                location.component(3),
                location.component(4),
                location.component(5)
            ),
            ("PID", "3", "2", "1")
        );
        assert_eq!(parsed.value(err, 3, 1), "102");
        assert_eq!(parsed.value(err, 4, 1), "E");
        assert!(parsed.value(err, 8, 1).contains("INS matricule"));

        let ack = acknowledge(
            None,
            Err(&FeedError {
                ack: AckCode::Reject,
                condition: ErrorCondition::SegmentSequence,
                location: None,
                text: "not an HL7 v2 message".to_owned(),
            }),
            &settings,
            "ACK3",
            "20261122",
        );
        let parsed = Message::parse(ack.as_bytes()).expect("ACK parses");
        assert_eq!(
            parsed.value(parsed.segment("MSA").expect("MSA"), 1, 1),
            "AR"
        );
    }

    /// Mutations of real messages (bytes flipped, delimiters and separators inserted, cuts,
    /// repeated segments): parsing, interpreting under two policies and acknowledging never
    /// panic, and every acknowledgement is an HL7 message with an MSA.
    #[test]
    fn mutated_messages_never_panic_and_always_get_a_parseable_answer() {
        let seeds = [
            a01("IPP7^^^HOSP&1.2.250.1.999.1&ISO^PI~185057800608491^^^&1.2.250.1.213.1.4.8&ISO^INS")
                .replace('\n', "\r"),
            "MSH|^~\\&|HIS|HOSP|XDS|DMP|20261122||ADT^A40^ADT_A39|M1|P|2.3.1\rEVN||20261122\rPID|||185057800608491^^^&1.2.250.1.213.1.4.8&ISO\rMRG|292042A00401249^^^&1.2.250.1.213.1.4.8&ISO\r".to_owned(),
        ];
        let policies = [IdentityPolicy::default(), IdentityPolicy::development()];
        let settings = FeedSettings::default();
        let alphabet = b"|^~\\&\r\n0123456789AZaz\x0b\x1c\xc3\xa9\xff ";
        let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut random = move |bound: usize| -> usize {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state % bound.max(1) as u64) as usize
        };
        let mut parsed = 0;
        for round in 0..20_000 {
            let mut bytes = seeds[round % seeds.len()].as_bytes().to_vec();
            for _ in 0..1 + random(6) {
                let at = random(bytes.len() + 1);
                match random(5) {
                    0 if !bytes.is_empty() => {
                        let at = at.min(bytes.len() - 1);
                        bytes[at] = alphabet[random(alphabet.len())];
                    }
                    1 => bytes.insert(at, alphabet[random(alphabet.len())]),
                    2 => bytes.truncate(at),
                    3 if at < bytes.len() => {
                        let end = (at + random(40)).min(bytes.len());
                        let copy = bytes[at..end].to_vec();
                        bytes.splice(at..at, copy);
                    }
                    _ if at < bytes.len() => {
                        bytes.remove(at);
                    }
                    _ => {}
                }
            }
            let message = Message::parse(&bytes).ok();
            parsed += usize::from(message.is_some());
            for policy in &policies {
                let result = match &message {
                    Some(message) => interpret(message, policy, &settings).map(|_| ()),
                    None => Err(FeedError {
                        ack: AckCode::Reject,
                        condition: ErrorCondition::SegmentSequence,
                        location: None,
                        text: "not HL7".to_owned(),
                    }),
                };
                let outcome = IdentityOutcome::Unchanged(1);
                let ack = acknowledge(
                    message.as_ref(),
                    result.as_ref().map(|()| &outcome),
                    &settings,
                    "ACK",
                    "20261122",
                );
                let answer = Message::parse(ack.as_bytes()).unwrap_or_else(|error| {
                    panic!("round {round}: ACK {ack:?} does not parse: {error}")
                });
                assert!(answer.segment("MSA").is_some(), "round {round}: {ack:?}");
            }
        }
        assert!(
            parsed > 5_000,
            "the mutations should keep many messages parseable: {parsed}"
        );
    }
}
