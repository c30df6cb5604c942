//! The `xds-conformance` command line: `run` (suites against live endpoints, one line per test,
//! `N passed, N failed[, N skipped]`, JUnit XML, exit 1 on failure, a progress line on a
//! terminal), `validate` (offline checks of a submission file), `list` (suites and tests).

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::runner::{Patients, Runner};
use crate::scenario::{ScenarioFile, load_suites, run_scenarios};
use crate::suites::{
    DEFAULT_KNOWN_FAILURES, Endpoint, KnownFailures, NIST_SUITES, Outcome, Target, TestResult,
    default_suites_dir, run_nist,
};

/// Command line (architecture.md, "Command-line contract").
#[derive(Debug, Parser)]
#[command(
    name = "xds-conformance",
    version,
    about = "Conformance harness for XDS.b registries and repositories"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run suites against live endpoints.
    Run(RunArgs),
    /// Validate a submission file offline (ebRIM 3.0 or 2.1, SOAP envelope or bare body).
    Validate(ValidateArgs),
    /// The test PKI: `pki init DIR` makes it, `pki vihf` signs assertions with it.
    Pki {
        #[command(subcommand)]
        command: PkiCommand,
    },
    /// List the suites and their tests.
    List {
        /// Folder of our own suites (default: the source tree's conformance/suites).
        #[arg(long, value_name = "DIR")]
        suites_dir: Option<PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
pub enum PkiCommand {
    /// Make a test CA, an untrusted CA, the daemons' certificates, structure and professional
    /// certificates, an expired and a revoked one (throwaway keys; see DIR/README.txt).
    Init {
        #[arg(value_name = "DIR")]
        dir: PathBuf,
        /// A DNS name the daemons' certificates also carry (repeatable; e.g. `registry` and
        /// `repository` in a docker-compose network).
        #[arg(long = "host", value_name = "NAME")]
        hosts: Vec<String>,
    },
    /// Print a VIHF assertion signed with DIR/CERT.key (or, with --body, a whole SOAP request
    /// carrying it, ready for curl).
    Vihf(VihfArgs),
}

#[derive(Debug, clap::Args)]
pub struct VihfArgs {
    /// The PKI folder of `pki init`.
    #[arg(long, value_name = "DIR")]
    pub dir: PathBuf,
    /// The signer, a file stem of the PKI folder (structure, structure-b, professional, ...).
    #[arg(long, default_value = "structure")]
    pub cert: String,
    /// The patient (resource-id), e.g. `185057800608491^^^&1.2.250.1.213.1.4.10&ISO^NH`.
    #[arg(long, value_name = "CX")]
    pub patient: Option<String>,
    /// Roles as code^codeSystem, profession first (repeatable; default: doctor, SM26).
    #[arg(long = "role", value_name = "CODE^SYSTEM")]
    pub roles: Vec<String>,
    /// Access mode: normal, bris_de_glace, centre_15.
    #[arg(long, default_value = "normal")]
    pub mode: String,
    /// Authentification_Mode: DIRECTE, INDIRECTE, INDIRECTE_RENFORCEE (default: DIRECTE for
    /// the professional certificate, INDIRECTE otherwise).
    #[arg(long)]
    pub authentication: Option<String>,
    /// Subject NameID (default: the card's idNat_PS, or a structure-internal id).
    #[arg(long)]
    pub name_id: Option<String>,
    /// Identifiant_Structure (default: the test structure 1750100125).
    #[arg(long)]
    pub structure: Option<String>,
    /// Wrap the assertion in a SOAP 1.2 request with this body (a file holding one element).
    #[arg(long, value_name = "FILE", requires = "action")]
    pub body: Option<PathBuf>,
    /// wsa:Action of that request (e.g. urn:ihe:iti:2007:RegistryStoredQuery).
    #[arg(long, value_name = "URN")]
    pub action: Option<String>,
}

#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// The registry's SOAP endpoint (ITI-42, ITI-18), e.g. http://127.0.0.1:8080/xds/registry.
    #[arg(long, value_name = "URL")]
    pub registry: String,
    /// The repository's SOAP endpoint (ITI-41, ITI-43, ITI-86); repository suites are skipped
    /// without it.
    #[arg(long, value_name = "URL")]
    pub repository: Option<String>,
    /// Where to send HL7v2 patient feeds (ITI-8 over MLLP): the `nist-patient-feed` suite and
    /// the feed steps of other tests. Without it they are skipped or not run, and the run's
    /// patients must be registered beforehand.
    #[arg(long, value_name = "ADDR:PORT")]
    pub mllp: Option<String>,
    /// The NIST testkit's `tests` folder (default: the shared test data's).
    #[arg(long, value_name = "DIR")]
    pub testkit: Option<PathBuf>,
    /// Folder of our own suites (default: the source tree's conformance/suites).
    #[arg(long, value_name = "DIR")]
    pub suites_dir: Option<PathBuf>,
    /// Suites to run (repeatable; default: all). See `xds-conformance list`.
    #[arg(long = "suite", value_name = "NAME")]
    pub suites: Vec<String>,
    /// Tests to run within the chosen suites (repeatable; default: all).
    #[arg(long = "test", value_name = "NAME")]
    pub tests: Vec<String>,
    /// Write a JUnit XML report.
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
    /// Known failures, `test/section/step: reason` per line (default: the project's list).
    #[arg(long, value_name = "FILE")]
    pub known_failures: Option<PathBuf>,
    /// The patient fed to the registry for most tests (testkit's registerPid, 15817).
    #[arg(long, default_value = "NISTREG1^^^&1.3.6.1.4.1.21367.2005.3.7&ISO")]
    pub patient: String,
    /// The second fed patient (registerAltPid, 15817b).
    #[arg(long, default_value = "NISTREG2^^^&1.3.6.1.4.1.21367.2005.3.7&ISO")]
    pub alt_patient: String,
    /// The patient of the stored-query data (sqPid, 15818): must hold nothing else.
    #[arg(long, default_value = "NISTSQ1^^^&1.3.6.1.4.1.21367.2005.3.7&ISO")]
    pub query_patient: String,
    /// sourceId written into every SubmissionSet.
    #[arg(long, default_value = "1.3.6.1.4.1.21367.2009.1.2.1")]
    pub source_id: String,
    /// Client certificate for mutual TLS (arrives with the trust issue; refused until then).
    #[arg(long, value_name = "FILE")]
    pub client_cert: Option<PathBuf>,
    /// Client key for mutual TLS (see --client-cert).
    #[arg(long, value_name = "FILE")]
    pub client_key: Option<PathBuf>,
    /// CA certificates to trust (see --client-cert).
    #[arg(long, value_name = "FILE")]
    pub ca: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
pub struct ValidateArgs {
    /// Validation profile: `ihe-xds-b` (default) or `fr-dmp`.
    #[arg(long, value_name = "NAME")]
    pub profile: Option<String>,
    /// Value-set folder of the profile (`fr-dmp`: the ANS files).
    #[arg(long, value_name = "DIR")]
    pub valuesets: Option<PathBuf>,
    /// Affinity-domain code list of `ihe-xds-b` (NIST codes.xml format).
    #[arg(long, value_name = "FILE")]
    pub codes: Option<PathBuf>,
    /// A daemon configuration file (xds-registry or xds-repository TOML) whose `[profile]`
    /// section to use, switches included; the flags above win over it.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Check as the repository would receive it (ITI-41) rather than the registry (ITI-42).
    #[arg(long)]
    pub repository: bool,
    /// Print the profile's rules (id, error code, what each requires) instead of checking a file.
    #[arg(long)]
    pub rules: bool,
    /// The file: SubmitObjectsRequest or ProvideAndRegisterDocumentSetRequest, bare or in a
    /// SOAP envelope, ebRIM 3.0 or 2.1.
    #[arg(required_unless_present = "rules")]
    pub file: Option<PathBuf>,
}

fn out(line: &str) {
    let mut stdout = std::io::stdout().lock();
    let _ = writeln!(stdout, "{line}");
    let _ = stdout.flush();
}

fn err(line: &str) {
    let mut stderr = std::io::stderr().lock();
    let _ = writeln!(stderr, "{line}");
}

/// Runs the command line; the process exit code.
pub fn main_with(cli: Cli) -> ExitCode {
    let result = match cli.command {
        Command::Run(args) => run(&args),
        Command::Validate(args) => crate::validate_file::validate(&args),
        Command::List { suites_dir } => list(suites_dir.as_deref()),
        Command::Pki { command } => pki(command),
    };
    match result {
        Ok(code) => code,
        Err(message) => {
            err(&format!("xds-conformance: {message}"));
            ExitCode::from(64)
        }
    }
}

fn pki(command: PkiCommand) -> Result<ExitCode, String> {
    match command {
        PkiCommand::Init { dir, hosts } => {
            let written =
                crate::pki::init_with_hosts(&dir, &hosts).map_err(|error| error.to_string())?;
            for file in written {
                out(&file.display().to_string());
            }
            Ok(ExitCode::SUCCESS)
        }
        PkiCommand::Vihf(args) => {
            let professional = args.cert == "professional";
            let mut spec = crate::pki::VihfSpec::structure(args.patient.as_deref());
            spec.signer = args.cert.clone();
            if professional {
                spec.authentication = "DIRECTE".to_owned();
                spec.name_id = crate::pki::PROFESSIONAL_ID.to_owned();
                spec.subject_name = "DURANT Romuald".to_owned();
            }
            if let Some(mode) = args.authentication {
                spec.authentication = mode;
            }
            if let Some(name_id) = args.name_id {
                spec.name_id = name_id;
            }
            if let Some(structure) = args.structure {
                spec.structure_id = structure;
            }
            if !args.roles.is_empty() {
                spec.roles = args.roles;
            }
            spec.access_mode = format!("{}^1.2.250.1.213.1.1.4.248", args.mode);
            let assertion =
                crate::pki::sign_vihf(&args.dir, &spec).map_err(|error| error.to_string())?;
            match (args.body, args.action) {
                (Some(body), Some(action)) => {
                    let text = std::fs::read_to_string(&body)
                        .map_err(|error| format!("{}: {error}", body.display()))?;
                    out(&crate::pki::soap_request(&action, Some(&assertion), &text));
                }
                _ => out(&assertion),
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn list(suites_dir: Option<&Path>) -> Result<ExitCode, String> {
    for suite in &NIST_SUITES {
        out(&format!("{} — {}", suite.name, suite.description));
        out(&format!("    {}", suite.tests.join(" ")));
    }
    let dir = suites_dir.map_or_else(default_suites_dir, Path::to_owned);
    for (name, file) in load_suites(&dir)? {
        out(&format!("{name} — {}", file.description));
        let names: Vec<&str> = file.cases.iter().map(|case| case.name.as_str()).collect();
        out(&format!("    {}", names.join(" ")));
    }
    Ok(ExitCode::SUCCESS)
}

/// One line per finished test, and a progress line on a terminal.
struct Reporter {
    terminal: bool,
    total: usize,
    done: usize,
    failed: usize,
}

impl Reporter {
    fn report(&mut self, result: &TestResult) {
        self.done += 1;
        if self.terminal {
            // Clear the progress line first.
            let mut stderr = std::io::stderr().lock();
            let _ = write!(stderr, "\r\x1b[2K");
        }
        let label = format!("{} {}", result.suite, result.name);
        match &result.outcome {
            Outcome::Passed => out(&format!(
                "PASS  {label} ({} step{}, {:.1} s)",
                result.steps,
                if result.steps == 1 { "" } else { "s" },
                result.duration.as_secs_f64()
            )),
            Outcome::Failed(reasons) => {
                self.failed += 1;
                out(&format!("FAIL  {label}"));
                for reason in reasons {
                    out(&format!("      {reason}"));
                }
            }
            Outcome::Skipped(reason) => out(&format!("SKIP  {label}: {reason}")),
        }
        for note in &result.known {
            out(&format!("      known: {note}"));
        }
        if self.terminal {
            let mut stderr = std::io::stderr().lock();
            let _ = write!(
                stderr,
                "[{}/{}] {} failed so far",
                self.done, self.total, self.failed
            );
            let _ = stderr.flush();
        }
    }
}

fn run(args: &RunArgs) -> Result<ExitCode, String> {
    if args.client_cert.is_some() || args.client_key.is_some() || args.ca.is_some() {
        return Err(
            "mutual TLS options are not supported yet (they arrive with the trust issue)"
                .to_owned(),
        );
    }
    let mllp = match &args.mllp {
        Some(text) => Some(
            text.parse::<std::net::SocketAddr>()
                .map_err(|_| format!("--mllp {text:?} is not ADDR:PORT"))?,
        ),
        None => None,
    };
    let target = Target {
        registry: Endpoint::parse(&args.registry)?,
        repository: args
            .repository
            .as_deref()
            .map(Endpoint::parse)
            .transpose()?,
        mllp,
        source_id: args.source_id.clone(),
        patients: Patients {
            register: args.patient.clone(),
            register_alt: args.alt_patient.clone(),
            stored_query: args.query_patient.clone(),
        },
    };
    let known = match &args.known_failures {
        Some(path) => KnownFailures::parse(
            &std::fs::read_to_string(path)
                .map_err(|error| format!("{}: {error}", path.display()))?,
        )?,
        None => KnownFailures::parse(DEFAULT_KNOWN_FAILURES)?,
    };
    let suites_dir = args.suites_dir.clone().unwrap_or_else(default_suites_dir);
    let own: Vec<(String, ScenarioFile)> = load_suites(&suites_dir)?;
    let wanted =
        |name: &str| args.suites.is_empty() || args.suites.iter().any(|suite| suite == name);
    for name in &args.suites {
        let exists = NIST_SUITES.iter().any(|suite| suite.name == name)
            || own.iter().any(|(own_name, _)| own_name == name);
        if !exists {
            return Err(format!(
                "no suite named {name:?} (see `xds-conformance list`)"
            ));
        }
    }
    // With a feed listener, the run's patients are fed first, whatever suites are chosen
    // (feeding a known patient again changes nothing).
    if let Some(address) = target.mllp {
        for (index, patient) in [
            &target.patients.register,
            &target.patients.register_alt,
            &target.patients.stored_query,
        ]
        .into_iter()
        .enumerate()
        {
            let cx = xds::model::Cx::parse(patient)
                .map_err(|error| format!("patient id {patient:?}: {error}"))?;
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |elapsed| elapsed.as_nanos());
            // A refusal is reported here and by the feed suite; the run goes on.
            if let Err(error) =
                crate::feed::feed(address, &cx, &format!("XDSCONF-{nanos:x}-{index}"))
            {
                err(&format!(
                    "note: feeding {patient} over MLLP ({address}) failed: {error}"
                ));
            }
        }
    }
    let selected = |test: &str| args.tests.is_empty() || args.tests.iter().any(|name| name == test);
    let nist: Vec<_> = NIST_SUITES
        .iter()
        .filter(|suite| wanted(suite.name))
        .collect();
    let total = nist
        .iter()
        .map(|suite| suite.tests.iter().filter(|test| selected(test)).count())
        .sum::<usize>()
        + own
            .iter()
            .filter(|(name, _)| wanted(name))
            .map(|(_, file)| {
                file.cases
                    .iter()
                    .filter(|case| selected(&case.name))
                    .count()
            })
            .sum::<usize>();
    let mut reporter = Reporter {
        terminal: std::io::stderr().is_terminal(),
        total,
        done: 0,
        failed: 0,
    };
    let mut results = Vec::new();
    if !nist.is_empty() {
        let testkit = match &args.testkit {
            Some(dir) => dir.clone(),
            None => crate::testkit::shared_dir()
                .map(|shared| shared.join("conformance/nist-testkit/tests"))
                .ok_or("the NIST testkit was not found: give --testkit DIR (its tests folder)")?,
        };
        if !testkit.is_dir() {
            return Err(format!("{}: not a folder", testkit.display()));
        }
        let mut runner = Runner::new(&testkit, target.site(), target.patients.clone());
        for suite in nist {
            results.extend(run_nist(
                suite,
                &selected,
                &mut runner,
                &target,
                &known,
                &mut |result| reporter.report(result),
            ));
        }
    }
    for (name, file) in own.iter().filter(|(name, _)| wanted(name)) {
        results.extend(run_scenarios(
            name,
            file,
            &suites_dir,
            &selected,
            &target,
            &mut |result| reporter.report(result),
        ));
    }
    if reporter.terminal {
        let mut stderr = std::io::stderr().lock();
        let _ = write!(stderr, "\r\x1b[2K");
    }
    if let Some(path) = &args.junit {
        std::fs::write(path, crate::junit::report(&results))
            .map_err(|error| format!("{}: {error}", path.display()))?;
    }
    let passed = results
        .iter()
        .filter(|result| result.outcome == Outcome::Passed)
        .count();
    let failed = results
        .iter()
        .filter(|result| matches!(result.outcome, Outcome::Failed(_)))
        .count();
    let skipped = results.len() - passed - failed;
    let mut summary = format!("{passed} passed, {failed} failed");
    if skipped > 0 {
        summary.push_str(&format!(", {skipped} skipped"));
    }
    out(&summary);
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
