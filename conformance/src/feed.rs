//! The harness's side of the patient identity feed (ITI-8): an HL7 v2.5 `ADT^A01` for one
//! patient id, sent over MLLP, answered `AA` or not. The testkit has no message templates for
//! its feed steps (FORMAT.md §4: `PatientIdentityFeedTransaction` sends an A01 for
//! `$patientid$`), so the message is built here.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use xds::hl7v2::{Field, Message, Writer};
use xds::model::{Cx, Dtm};

/// How long a feed waits to connect and for its acknowledgement.
const TIMEOUT: Duration = Duration::from_secs(15);

/// Largest answer read.
const MAX_ANSWER: u64 = 1 << 20;

/// The A01 registering `patient`, with `control_id` as MSH-10.
pub fn a01(patient: &Cx, control_id: &str) -> String {
    let now = Dtm::now().to_string();
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

/// A blocking MLLP connection: framed messages out, framed answers in (the harness's feeds,
/// the daemons' tests and benchmarks).
#[derive(Debug)]
pub struct Connection {
    writer: TcpStream,
    reader: BufReader<TcpStream>,
}

impl Connection {
    /// Connects with `timeout` for the connection and for every read and write.
    pub fn connect(address: SocketAddr, timeout: Duration) -> io::Result<Self> {
        let writer = TcpStream::connect_timeout(&address, timeout)?;
        writer.set_read_timeout(Some(timeout))?;
        writer.set_write_timeout(Some(timeout))?;
        writer.set_nodelay(true)?;
        Ok(Self {
            reader: BufReader::new(writer.try_clone()?),
            writer,
        })
    }

    /// Writes bytes as they are (unframed, or a frame cut short).
    pub fn write_raw(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.writer.write_all(bytes)
    }

    /// Writes one framed message (`<VT> message <FS><CR>`).
    pub fn send(&mut self, message: &[u8]) -> io::Result<()> {
        let mut frame = Vec::with_capacity(message.len() + 3);
        frame.push(0x0B);
        frame.extend_from_slice(message);
        frame.extend_from_slice(&[0x1C, 0x0D]);
        self.writer.write_all(&frame)
    }

    /// The next framed answer without its delimiters; `None` when the peer closed (or reset)
    /// the connection first.
    pub fn receive(&mut self) -> io::Result<Option<Vec<u8>>> {
        let mut answer = Vec::new();
        match (&mut self.reader)
            .take(MAX_ANSWER)
            .read_until(0x1C, &mut answer)
        {
            Ok(_) => {}
            Err(error) if error.kind() == io::ErrorKind::ConnectionReset => return Ok(None),
            Err(error) => return Err(error),
        }
        if answer.len() as u64 == MAX_ANSWER && answer.last() != Some(&0x1C) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "answer larger than 1 MiB",
            ));
        }
        if answer.pop() != Some(0x1C) {
            return Ok(None);
        }
        // The CR that ends the frame.
        let mut cr = [0u8; 1];
        let _ = self.reader.read(&mut cr);
        if answer.first() == Some(&0x0B) {
            answer.remove(0);
        }
        Ok(Some(answer))
    }

    /// Sends a message and waits for its answer.
    pub fn exchange(&mut self, message: &[u8]) -> io::Result<Option<Vec<u8>>> {
        self.send(message)?;
        self.receive()
    }
}

/// Sends one message over a new MLLP connection and returns the acknowledgement's text.
pub fn send(address: SocketAddr, message: &str) -> Result<String, String> {
    let failed = |error: io::Error| format!("MLLP {address}: {error}");
    let mut connection = Connection::connect(address, TIMEOUT).map_err(failed)?;
    match connection.exchange(message.as_bytes()).map_err(failed)? {
        Some(answer) => Ok(String::from_utf8_lossy(&answer).into_owned()),
        None => Err(format!("MLLP {address}: closed without an acknowledgement")),
    }
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
