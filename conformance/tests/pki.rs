//! The test PKI and VIHF signatures against independent implementations: xmlsec1 (libxmlsec1,
//! Debian's `xmlsec1`) verifies the assertions `pki vihf` signs, our verifier accepts what
//! xmlsec1 signs (pretty-printed, its namespaces declared by an ancestor) and refuses it once
//! changed, and our exclusive canonical form is xmllint's (`--exc-c14n`).

use std::path::Path;
use std::process::Command;

use xds::net::tls::{IdentityRules, Peer, identity_of, read_certificates};
use xds::net::trust::{Trust, TrustSettings};
use xds::wire::RawXml;
use xds::wire::dom;
use xds_conformance::pki::{self, VihfSpec};
use xds_conformance::support::TempDir;

const PATIENT: &str = "185057800608491^^^&1.2.250.1.213.1.4.8&ISO^NH";

fn tool(name: &str) -> Command {
    let found = Command::new("sh")
        .args(["-c", &format!("command -v {name}")])
        .output()
        .is_ok_and(|output| output.status.success());
    assert!(found, "{name} is missing (scripts/test installs it)");
    Command::new(name)
}

fn verifier() -> Trust {
    Trust::new(
        TrustSettings::default(),
        None,
        std::sync::Arc::new(|_| Vec::new()),
    )
    .expect("trust")
}

fn peer(pki_dir: &Path, name: &str) -> Peer {
    let certificate = read_certificates(&pki_dir.join(format!("{name}.pem")))
        .expect("certificate")
        .remove(0);
    Peer {
        identity: Some(identity_of(&certificate, &IdentityRules::default()).expect("identity")),
        certificate: Some(certificate),
    }
}

fn header(assertion: &str, namespaces: Vec<(String, String)>) -> RawXml {
    RawXml {
        xml: pki::security_header(assertion),
        namespaces,
    }
}

#[test]
fn xmlsec1_and_our_verifier_agree_on_vihf_signatures() {
    let dir = TempDir::new("pki-xmlsec");
    let pki_dir = dir.path().join("pki");
    let files = pki::init(&pki_dir).expect("pki init");
    assert_eq!(files.len(), 12);
    let assertion = pki::sign_vihf(&pki_dir, &VihfSpec::structure(Some(PATIENT))).expect("sign");

    // xmlsec1 verifies ours, with the certificate chain of the test CA.
    let signed = dir.path().join("signed.xml");
    std::fs::write(&signed, format!("<?xml version=\"1.0\"?>\n{assertion}")).expect("write");
    let output = tool("xmlsec1")
        .args([
            "--verify",
            "--id-attr:ID",
            "urn:oasis:names:tc:SAML:2.0:assertion:Assertion",
            "--trusted-pem",
        ])
        .arg(pki_dir.join("ca.pem"))
        .arg(&signed)
        .output()
        .expect("xmlsec1");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let caller = verifier()
        .caller(
            &peer(&pki_dir, "structure"),
            Some(&header(&assertion, Vec::new())),
        )
        .expect("ours verifies too");
    assert_eq!(
        caller.assertion.expect("assertion").structure_id,
        pki::STRUCTURE_ID
    );

    // xmlsec1 signs a template laid out differently (line breaks, the saml2 namespace declared
    // by the SOAP envelope, not by the assertion); ours verifies it.
    let template = assertion
        .replace("<saml2:Subject>", "\n  <saml2:Subject>")
        .replace(
            "<saml2:AttributeStatement>",
            "\n  <saml2:AttributeStatement>\n    ",
        );
    let template = regex_free_clear(&template, "<ds:DigestValue>", "</ds:DigestValue>");
    let template = regex_free_clear(&template, "<ds:SignatureValue>", "</ds:SignatureValue>");
    let template_file = dir.path().join("template.xml");
    std::fs::write(
        &template_file,
        format!("<?xml version=\"1.0\"?>\n{template}"),
    )
    .expect("write");
    let resigned = dir.path().join("resigned.xml");
    let output = tool("xmlsec1")
        .args([
            "--sign",
            "--id-attr:ID",
            "urn:oasis:names:tc:SAML:2.0:assertion:Assertion",
            "--privkey-pem",
        ])
        .arg(format!(
            "{},{}",
            pki_dir.join("structure.key").display(),
            pki_dir.join("structure.pem").display()
        ))
        .arg("--output")
        .arg(&resigned)
        .arg(&template_file)
        .output()
        .expect("xmlsec1");
    assert!(
        resigned.exists(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let text = std::fs::read_to_string(&resigned).expect("read");
    let theirs = text[text.find("<saml2:Assertion").expect("assertion")..]
        .trim_end()
        .replacen(
            " xmlns:saml2=\"urn:oasis:names:tc:SAML:2.0:assertion\"",
            "",
            1,
        );
    assert_ne!(theirs, assertion);
    let context = vec![(
        "saml2".to_owned(),
        "urn:oasis:names:tc:SAML:2.0:assertion".to_owned(),
    )];
    verifier()
        .caller(
            &peer(&pki_dir, "structure"),
            Some(&header(&theirs, context.clone())),
        )
        .expect("an assertion signed by xmlsec1 verifies");
    let changed = theirs.replace("MARTIN Philippe", "MARTIN Paul");
    let refusal = verifier()
        .caller(
            &peer(&pki_dir, "structure"),
            Some(&header(&changed, context)),
        )
        .expect_err("changed after signing");
    assert_eq!(refusal.subcode, "wsse:FailedCheck");
}

/// Empties the text between `open` and `close`.
fn regex_free_clear(text: &str, open: &str, close: &str) -> String {
    let start = text.find(open).expect("open") + open.len();
    let end = start + text[start..].find(close).expect("close");
    format!("{}{}", &text[..start], &text[end..])
}

#[test]
fn our_exclusive_canonical_form_is_xmllints() {
    let dir = TempDir::new("pki-c14n");
    let pki_dir = dir.path().join("pki");
    pki::init(&pki_dir).expect("pki init");
    let assertion = pki::sign_vihf(&pki_dir, &VihfSpec::structure(Some(PATIENT))).expect("sign");
    // A document of its own, with some of what canonicalization rewrites (xmllint's
    // --exc-c14n keeps comments, so there is none).
    let document = assertion
        .replace("<saml2:Subject>", "\r\n<saml2:Subject>")
        .replace("MARTIN Philippe", "MARTIN &amp; Philippe &#x3C;&gt;")
        .replace(
            "Version=\"2.0\"",
            "Version=\"2.0\" xmlns:unused=\"urn:unused\"",
        );
    let file = dir.path().join("assertion.xml");
    std::fs::write(&file, &document).expect("write");
    let output = tool("xmllint")
        .arg("--exc-c14n")
        .arg(&file)
        .output()
        .expect("xmllint");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let tree = dom::parse_in(&document, &[]).expect("parses");
    let ours = dom::exclusive_c14n(&tree, &[], None);
    assert_eq!(
        String::from_utf8_lossy(&ours),
        String::from_utf8_lossy(&output.stdout)
    );
}

#[test]
fn a_remembered_assertion_still_expires_and_a_changed_one_is_verified_again() {
    let dir = TempDir::new("pki-cache");
    let pki_dir = dir.path().join("pki");
    pki::init(&pki_dir).expect("pki init");
    let spec = VihfSpec {
        issued_ago: 0,
        lifetime: 600,
        ..VihfSpec::structure(Some(PATIENT))
    };
    let assertion = pki::sign_vihf(&pki_dir, &spec).expect("sign");
    let trust = verifier();
    let structure = peer(&pki_dir, "structure");
    let security = header(&assertion, Vec::new());
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs() as i64;
    for _ in 0..2 {
        trust
            .caller_at(&structure, Some(&security), now)
            .expect("valid, then remembered");
    }
    // Still within NotOnOrAfter + skew (600 + 120 s), then past it.
    trust
        .caller_at(&structure, Some(&security), now + 700)
        .expect("within the skew");
    let refusal = trust
        .caller_at(&structure, Some(&security), now + 800)
        .expect_err("expired although remembered");
    assert_eq!(refusal.subcode, "wsse:MessageExpired");
    // The same bytes from another certificate are not the remembered caller.
    let refusal = trust
        .caller_at(&peer(&pki_dir, "structure-b"), Some(&security), now)
        .expect_err("another certificate");
    assert_eq!(refusal.subcode, "wsse:FailedAuthentication");
    let changed = header(
        &assertion.replace("MARTIN Philippe", "MARTIN Paul"),
        Vec::new(),
    );
    assert_eq!(
        trust
            .caller_at(&structure, Some(&changed), now)
            .expect_err("changed")
            .subcode,
        "wsse:FailedCheck"
    );
}
