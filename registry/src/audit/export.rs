//! ATNA export (ITI-20 Record Audit Event): a task that reads the durable outbox in id order,
//! sends each record to the audit repository as an RFC 5424 syslog message, and removes from
//! the outbox only what was delivered. While the audit repository is unreachable the records
//! wait in the outbox (which survives restarts and crashes); delivery resumes when it returns.
//!
//! Transports (the `audit.atna` URL's scheme):
//! - `tls://HOST:PORT`: RFC 5425 (syslog over TLS, octet counting), the ITI-20 transport. The
//!   daemon's own certificate is its client certificate; the server must chain to the
//!   configured trust anchors.
//! - `udp://HOST:PORT`: RFC 5426, one datagram per message (no delivery guarantee at all).
//! - `tcp://HOST:PORT`: RFC 6587 octet counting without TLS (test receivers).
//! - `relp://HOST:PORT`, `relp+tls://HOST:PORT`: RELP, rsyslog's reliable transport: the
//!   receiver acknowledges every message once it has taken it, so a receiver that stops
//!   mid-stream loses nothing and receives nothing twice. Plain syslog over TCP or TLS has no
//!   acknowledgement: a message the receiver's kernel accepted but the receiver never read
//!   (it stopped) is lost; use RELP where every record must arrive exactly once.

use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::{TcpStream, UdpSocket};

use super::AuditRecord;
use super::atna::{AuditSource, syslog_message};
use crate::service::Registry;

/// How records travel to the audit repository.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    Tls,
    Udp,
    Tcp,
    Relp,
    RelpTls,
}

/// Where and how to export.
#[derive(Debug, Clone)]
pub struct ExportSettings {
    pub transport: Transport,
    /// `HOST:PORT`.
    pub address: String,
    /// The host name the TLS server certificate must carry.
    pub server_name: String,
    pub source: AuditSource,
    /// Records read from the outbox (and sent) at once.
    pub batch: usize,
    /// Wait before reconnecting after a failure.
    pub retry: Duration,
    /// Connection and acknowledgement timeout.
    pub timeout: Duration,
}

impl ExportSettings {
    /// Parses an `audit.atna` URL.
    pub fn parse(url: &str) -> Result<(Transport, String, String), String> {
        let (scheme, rest) = url
            .split_once("://")
            .ok_or_else(|| format!("audit.atna {url:?} is not SCHEME://HOST:PORT"))?;
        let transport = match scheme {
            "tls" => Transport::Tls,
            "udp" => Transport::Udp,
            "tcp" => Transport::Tcp,
            "relp" => Transport::Relp,
            "relp+tls" => Transport::RelpTls,
            other => {
                return Err(format!(
                    "audit.atna scheme {other:?} is not tls, udp, tcp, relp or relp+tls"
                ));
            }
        };
        let address = rest.trim_end_matches('/');
        let host = match address.rsplit_once(':') {
            Some((host, port)) if !host.is_empty() && port.parse::<u16>().is_ok() => {
                host.trim_start_matches('[').trim_end_matches(']')
            }
            _ => return Err(format!("audit.atna {url:?} needs HOST:PORT")),
        };
        Ok((transport, address.to_owned(), host.to_owned()))
    }

    pub fn uses_tls(&self) -> bool {
        matches!(self.transport, Transport::Tls | Transport::RelpTls)
    }
}

trait Stream: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Stream for T {}

/// An open connection to the audit repository.
enum Connection {
    Udp(UdpSocket),
    Octets(Box<dyn Stream>),
    Relp {
        stream: BufReader<Box<dyn Stream>>,
        next_txnr: u64,
    },
}

type Failure = String;

async fn with_timeout<T>(
    timeout: Duration,
    what: &str,
    future: impl Future<Output = std::io::Result<T>>,
) -> Result<T, Failure> {
    match tokio::time::timeout(timeout, future).await {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(error)) => Err(format!("{what}: {error}")),
        Err(_) => Err(format!("{what}: timed out")),
    }
}

async fn connect(
    settings: &ExportSettings,
    tls: Option<&Arc<rustls::ClientConfig>>,
) -> Result<Connection, Failure> {
    if settings.transport == Transport::Udp {
        let socket = UdpSocket::bind(if settings.address.starts_with('[') {
            "[::]:0"
        } else {
            "0.0.0.0:0"
        })
        .await
        .map_err(|error| format!("udp socket: {error}"))?;
        socket
            .connect(&settings.address)
            .await
            .map_err(|error| format!("udp {}: {error}", settings.address))?;
        return Ok(Connection::Udp(socket));
    }
    let tcp = with_timeout(
        settings.timeout,
        &format!("connect {}", settings.address),
        TcpStream::connect(&settings.address),
    )
    .await?;
    let _ = tcp.set_nodelay(true);
    let stream: Box<dyn Stream> = if settings.uses_tls() {
        let config = tls.ok_or("a TLS transport needs the daemon's [tls] files")?;
        let name = rustls::pki_types::ServerName::try_from(settings.server_name.clone())
            .map_err(|error| format!("server name {}: {error}", settings.server_name))?;
        let connector = tokio_rustls::TlsConnector::from(Arc::clone(config));
        Box::new(
            with_timeout(
                settings.timeout,
                "TLS handshake",
                connector.connect(name, tcp),
            )
            .await?,
        )
    } else {
        Box::new(tcp)
    };
    match settings.transport {
        Transport::Relp | Transport::RelpTls => {
            let mut connection = Connection::Relp {
                stream: BufReader::new(stream),
                next_txnr: 1,
            };
            relp_open(&mut connection, settings.timeout).await?;
            Ok(connection)
        }
        _ => Ok(Connection::Octets(stream)),
    }
}

/// One RELP frame: `TXNR SP COMMAND SP DATALEN [SP DATA] LF`.
fn relp_frame(txnr: u64, command: &str, data: &[u8]) -> Vec<u8> {
    let mut frame = format!("{txnr} {command} {}", data.len()).into_bytes();
    if !data.is_empty() {
        frame.push(b' ');
        frame.extend_from_slice(data);
    }
    frame.push(b'\n');
    frame
}

/// Reads one RELP frame: (txnr, command, data).
async fn relp_read(
    stream: &mut BufReader<Box<dyn Stream>>,
) -> std::io::Result<(u64, String, Vec<u8>)> {
    let invalid =
        |what: &str| std::io::Error::new(std::io::ErrorKind::InvalidData, what.to_owned());
    let field = async |stream: &mut BufReader<Box<dyn Stream>>| {
        let mut bytes = Vec::new();
        stream.read_until(b' ', &mut bytes).await?;
        if bytes.pop() != Some(b' ') {
            return Err(invalid("RELP frame cut short"));
        }
        String::from_utf8(bytes).map_err(|_| invalid("RELP header is not text"))
    };
    let txnr = field(stream)
        .await?
        .parse::<u64>()
        .map_err(|_| invalid("RELP txnr"))?;
    let command = field(stream).await?;
    // DATALEN ends with a space (data follows) or the trailer.
    let mut length = Vec::new();
    loop {
        let byte = stream.read_u8().await?;
        if byte == b' ' || byte == b'\n' {
            let length = std::str::from_utf8(&length)
                .ok()
                .and_then(|text| text.parse::<usize>().ok())
                .filter(|length| *length <= 1 << 20)
                .ok_or_else(|| invalid("RELP datalen"))?;
            let mut data = vec![0; length];
            if byte == b' ' {
                stream.read_exact(&mut data).await?;
                if stream.read_u8().await? != b'\n' {
                    return Err(invalid("RELP trailer"));
                }
            } else if length != 0 {
                return Err(invalid("RELP data missing"));
            }
            return Ok((txnr, command, data));
        }
        length.push(byte);
        if length.len() > 9 {
            return Err(invalid("RELP datalen too long"));
        }
    }
}

async fn relp_open(connection: &mut Connection, timeout: Duration) -> Result<(), Failure> {
    let Connection::Relp { stream, next_txnr } = connection else {
        return Ok(());
    };
    let offer = b"relp_version=0\nrelp_software=xds-registry\ncommands=syslog";
    let txnr = *next_txnr;
    *next_txnr += 1;
    with_timeout(
        timeout,
        "RELP open",
        stream.get_mut().write_all(&relp_frame(txnr, "open", offer)),
    )
    .await?;
    let (answered, command, data) = with_timeout(timeout, "RELP open", relp_read(stream)).await?;
    if answered != txnr || command != "rsp" || !data.starts_with(b"200") {
        return Err(format!(
            "RELP open refused: {answered} {command} {}",
            String::from_utf8_lossy(&data)
        ));
    }
    Ok(())
}

/// Sends records; answers how many leading records were delivered (all of them unless the
/// connection failed, and then the failure).
async fn send(
    connection: &mut Connection,
    records: &[AuditRecord],
    settings: &ExportSettings,
) -> (usize, Option<Failure>) {
    match connection {
        Connection::Udp(socket) => {
            for (sent, record) in records.iter().enumerate() {
                let message = syslog_message(record, &settings.source);
                if let Err(error) = socket.send(&message).await {
                    return (sent, Some(format!("udp send: {error}")));
                }
            }
            (records.len(), None)
        }
        Connection::Octets(stream) => {
            let mut bytes = Vec::new();
            for record in records {
                let message = syslog_message(record, &settings.source);
                bytes.extend_from_slice(format!("{} ", message.len()).as_bytes());
                bytes.extend_from_slice(&message);
            }
            let written = with_timeout(settings.timeout, "syslog write", async {
                stream.write_all(&bytes).await?;
                stream.flush().await
            })
            .await;
            match written {
                Ok(()) => (records.len(), None),
                Err(error) => (0, Some(error)),
            }
        }
        Connection::Relp { stream, next_txnr } => {
            let first = *next_txnr;
            let mut bytes = Vec::new();
            for record in records {
                let message = syslog_message(record, &settings.source);
                bytes.extend_from_slice(&relp_frame(*next_txnr, "syslog", &message));
                *next_txnr += 1;
            }
            if let Err(error) = with_timeout(settings.timeout, "RELP write", async {
                stream.get_mut().write_all(&bytes).await?;
                stream.get_mut().flush().await
            })
            .await
            {
                return (0, Some(error));
            }
            // Acknowledgements come in order; a record counts once its own has arrived.
            let mut acknowledged = 0;
            while acknowledged < records.len() {
                let frame =
                    with_timeout(settings.timeout, "RELP acknowledgement", relp_read(stream)).await;
                match frame {
                    Ok((txnr, command, data))
                        if command == "rsp" && txnr == first + acknowledged as u64 =>
                    {
                        if !data.starts_with(b"200") {
                            return (
                                acknowledged,
                                Some(format!(
                                    "RELP refused record {}: {}",
                                    records[acknowledged].id,
                                    String::from_utf8_lossy(&data)
                                )),
                            );
                        }
                        acknowledged += 1;
                    }
                    Ok((_, command, _)) if command == "serverclose" => {
                        return (
                            acknowledged,
                            Some("RELP server closed the session".to_owned()),
                        );
                    }
                    Ok((txnr, command, _)) => {
                        return (
                            acknowledged,
                            Some(format!("unexpected RELP frame {txnr} {command}")),
                        );
                    }
                    Err(error) => return (acknowledged, Some(error)),
                }
            }
            (acknowledged, None)
        }
    }
}

/// Exports the outbox until `shutdown` resolves.
pub async fn run(
    registry: Registry,
    settings: ExportSettings,
    tls: Option<Arc<rustls::ClientConfig>>,
    shutdown: impl Future<Output = ()>,
) {
    tokio::pin!(shutdown);
    let mut connection: Option<Connection> = None;
    let idle = Duration::from_millis(100);
    loop {
        let store = Arc::clone(registry.store());
        let batch = settings.batch;
        let records = match tokio::task::spawn_blocking(move || store.outbox(batch)).await {
            Ok(Ok(records)) => records,
            Ok(Err(error)) => {
                tracing::error!(error = %error.message, "cannot read the audit outbox");
                Vec::new()
            }
            Err(_) => Vec::new(),
        };
        let mut pause = idle;
        if !records.is_empty() {
            if connection.is_none() {
                match connect(&settings, tls.as_ref()).await {
                    Ok(opened) => {
                        tracing::info!(address = %settings.address, "connected to the audit repository");
                        connection = Some(opened);
                    }
                    Err(error) => {
                        tracing::warn!(%error, pending = records.len(), "audit repository unreachable; records wait in the outbox");
                        pause = settings.retry;
                    }
                }
            }
            if let Some(open) = connection.as_mut() {
                let (delivered, failure) = send(open, &records, &settings).await;
                if delivered > 0 {
                    let ids = records[..delivered]
                        .iter()
                        .map(|record| record.id)
                        .collect();
                    if let Err(error) = registry.outbox_sent(ids).await {
                        tracing::error!(error = %error.message, "delivered audit records not removed from the outbox; they will be sent again");
                    }
                }
                if let Some(error) = failure {
                    tracing::warn!(%error, delivered, "audit export interrupted; reconnecting");
                    connection = None;
                    pause = settings.retry;
                } else if delivered == records.len() && records.len() == settings.batch {
                    // More are waiting: no pause.
                    continue;
                }
            }
        }
        tokio::select! {
            () = tokio::time::sleep(pause) => {}
            () = &mut shutdown => break,
        }
    }
    if let Some(Connection::Relp {
        mut stream,
        next_txnr,
    }) = connection
    {
        let _ = tokio::time::timeout(
            settings.timeout,
            stream
                .get_mut()
                .write_all(&relp_frame(next_txnr, "close", b"")),
        )
        .await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_name_transport_address_and_host() {
        assert_eq!(
            ExportSettings::parse("relp+tls://localhost:2514"),
            Ok((
                Transport::RelpTls,
                "localhost:2514".to_owned(),
                "localhost".to_owned()
            ))
        );
        assert_eq!(
            ExportSettings::parse("udp://127.0.0.1:514/"),
            Ok((
                Transport::Udp,
                "127.0.0.1:514".to_owned(),
                "127.0.0.1".to_owned()
            ))
        );
        assert!(ExportSettings::parse("http://x:1").is_err());
        assert!(ExportSettings::parse("tls://nowhere").is_err());
    }

    #[test]
    fn relp_frames_carry_their_length() {
        assert_eq!(
            relp_frame(3, "syslog", b"abc"),
            b"3 syslog 3 abc\n".to_vec()
        );
        assert_eq!(relp_frame(9, "close", b""), b"9 close 0\n".to_vec());
    }
}
