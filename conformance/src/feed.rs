//! The harness's side of the patient identity feed (ITI-8): an HL7 v2.5 `ADT^A01` for one
//! patient id, sent over MLLP, answered `AA` or not. The testkit has no message templates for
//! its feed steps (FORMAT.md §4: `PatientIdentityFeedTransaction` sends an A01 for
//! `$patientid$`), so the message is built here.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use xds::hl7v2::{Field, Message, Writer};
use xds::model::{Cx, Dtm};

/// How long a feed waits to connect and for its acknowledgement.
const TIMEOUT: Duration = Duration::from_secs(15);

/// The A01 registering `patient`, with `control_id` as MSH-10.
pub fn a01(patient: &Cx, control_id: &str) -> String {
    let seconds = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs());
    let now = Dtm::from_unix_seconds(seconds).to_string();
    let mut writer = Writer::new();
    writer
        .header(&[
            Field::Text("XDS_CONFORMANCE"),
            Field::Text("NIST_TESTKIT"),
            Field::Text("XDS_REGISTRY"),
            Field::Empty,
            Field::Text(&now),
            Field::Empty,
            Field::Components(vec!["ADT", "A01", "ADT_A01"]),
            Field::Text(control_id),
            Field::Text("P"),
            Field::Text("2.5"),
        ])
        .segment("EVN", &[Field::Empty, Field::Text(&now)])
        .segment(
            "PID",
            &[
                Field::Empty,
                Field::Empty,
                Field::Composite(patient.composite()),
                Field::Empty,
                Field::Components(vec!["CONFORMANCE", "PATIENT"]),
            ],
        )
        .segment("PV1", &[Field::Empty, Field::Text("N")]);
    writer.finish()
}

/// Sends one message over MLLP and returns the acknowledgement's text.
pub fn send(address: SocketAddr, message: &str) -> Result<String, String> {
    let mut stream = TcpStream::connect_timeout(&address, TIMEOUT)
        .map_err(|error| format!("MLLP {address}: {error}"))?;
    stream
        .set_read_timeout(Some(TIMEOUT))
        .and_then(|()| stream.set_write_timeout(Some(TIMEOUT)))
        .map_err(|error| error.to_string())?;
    let mut frame = vec![0x0B];
    frame.extend_from_slice(message.as_bytes());
    frame.extend_from_slice(&[0x1C, 0x0D]);
    stream
        .write_all(&frame)
        .map_err(|error| format!("MLLP {address}: {error}"))?;
    let mut answer = Vec::new();
    let mut buffer = [0u8; 4096];
    while !answer.contains(&0x1C) {
        match stream.read(&mut buffer) {
            Ok(0) => return Err(format!("MLLP {address}: closed without an acknowledgement")),
            Ok(read) => answer.extend_from_slice(&buffer[..read]),
            Err(error) => return Err(format!("MLLP {address}: {error}")),
        }
        if answer.len() > 1 << 20 {
            return Err(format!("MLLP {address}: acknowledgement larger than 1 MiB"));
        }
    }
    let end = answer
        .iter()
        .position(|byte| *byte == 0x1C)
        .unwrap_or(answer.len());
    let start = usize::from(answer.first() == Some(&0x0B));
    Ok(String::from_utf8_lossy(&answer[start..end]).into_owned())
}

/// Feeds one patient id; `Ok` when the registry answered `AA`.
pub fn feed(address: SocketAddr, patient: &Cx, control_id: &str) -> Result<(), String> {
    let ack = send(address, &a01(patient, control_id))?;
    let message =
        Message::parse(ack.as_bytes()).map_err(|error| format!("acknowledgement: {error}"))?;
    let Some(msa) = message.segment("MSA") else {
        return Err("acknowledgement without MSA".to_owned());
    };
    match message.value(msa, 1, 1).as_str() {
        "AA" | "CA" => Ok(()),
        code => Err(format!(
            "{code}: {}",
            message
                .segment("ERR")
                .map(|err| message.value(err, 8, 1))
                .filter(|text| !text.is_empty())
                .unwrap_or_else(|| message.value(msa, 3, 1))
        )),
    }
}
