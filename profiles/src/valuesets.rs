//! Value sets read from the files their publisher distributes: FHIR R4 `ValueSet` and
//! `CodeSystem` JSON (the ANS terminology server's format), IHE SVS `RetrieveValueSetResponse`
//! XML (the ANS "JDV" files), and the typeCode -> classCode correspondence as CSV
//! (`typeCodeSystem,typeCode,typeDisplay,classCodeSystem,classCode`).
//!
//! XDS metadata names a code's system by its OID in the codingScheme slot, while FHIR files name
//! it by URL; [`SYSTEM_SCHEMES`] (facts from dmp-profile.md §5.1), the CodeSystem files of the
//! folder and the deployment's own table give the codingScheme values each URL stands for.
//!
//! Every problem names the file and why; a folder loads whole or not at all.

use std::collections::{BTreeMap, HashMap};
use std::fs;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use xds::wire::scan_elements;

/// A value-set file that could not be used: which file and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}: {reason}", file.display())]
pub struct LoadError {
    pub file: PathBuf,
    pub reason: String,
}

impl LoadError {
    pub fn new(file: &Path, reason: impl Into<String>) -> Self {
        Self {
            file: file.to_owned(),
            reason: reason.into(),
        }
    }
}

/// Code systems named by URL in FHIR files and the codingScheme values XDS metadata uses for
/// them (dmp-profile.md §5.1 and §6.2: TRE_A10 and TRE_A12 travel as `URN` and `ASTM`).
pub const SYSTEM_SCHEMES: &[(&str, &str)] = &[
    ("http://loinc.org", "2.16.840.1.113883.6.1"),
    (
        "https://mos.esante.gouv.fr/NOS/TRE_A00-ProducteurDocNonPS/FHIR/TRE-A00-ProducteurDocNonPS",
        "1.2.250.1.213.1.1.4.6",
    ),
    (
        "https://mos.esante.gouv.fr/NOS/TRE_A01-CadreExercice/FHIR/TRE-A01-CadreExercice",
        "1.2.250.1.213.1.1.4.9",
    ),
    (
        "https://mos.esante.gouv.fr/NOS/TRE_A03-ClasseDocument/FHIR/TRE-A03-ClasseDocument",
        "1.2.250.1.213.1.1.4.1",
    ),
    (
        "https://mos.esante.gouv.fr/NOS/TRE_A05-TypeDocComplementaire/FHIR/TRE-A05-TypeDocComplementaire",
        "1.2.250.1.213.1.1.4.12",
    ),
    (
        "https://mos.esante.gouv.fr/NOS/TRE_A06-FormatCodeComplementaire/FHIR/TRE-A06-FormatCodeComplementaire",
        "1.2.250.1.213.1.1.4.2.282",
    ),
    (
        "https://mos.esante.gouv.fr/NOS/TRE_A07-StatutVisibiliteDocument/FHIR/TRE-A07-StatutVisibiliteDocument",
        "1.2.250.1.213.1.1.4.13",
    ),
    (
        "https://mos.esante.gouv.fr/NOS/TRE_A08-HL7Confidentiality/FHIR/TRE-A08-HL7Confidentiality",
        "2.16.840.1.113883.5.25",
    ),
    (
        "https://mos.esante.gouv.fr/NOS/TRE_A09-DICOMuidRegistry/FHIR/TRE-A09-DICOMuidRegistry",
        "1.2.840.10008.2.6.1",
    ),
    (
        "https://mos.esante.gouv.fr/NOS/TRE_A10-NomenclatureURN/FHIR/TRE-A10-NomenclatureURN",
        "URN",
    ),
    (
        "https://mos.esante.gouv.fr/NOS/TRE_A11-IheFormatCode/FHIR/TRE-A11-IheFormatCode",
        "1.3.6.1.4.1.19376.1.2.3",
    ),
    (
        "https://mos.esante.gouv.fr/NOS/TRE_A12-NomenclatureASTM/FHIR/TRE-A12-NomenclatureASTM",
        "ASTM",
    ),
    (
        "https://mos.esante.gouv.fr/NOS/TRE_R02-SecteurActivite/FHIR/TRE-R02-SecteurActivite",
        "1.2.250.1.71.4.2.4",
    ),
    (
        "https://mos.esante.gouv.fr/NOS/TRE_R209-TypeActivite/FHIR/TRE-R209-TypeActivite",
        "1.2.250.1.213.2.2",
    ),
];

/// One code of a value set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Concept {
    pub code: String,
    pub display: String,
    /// The system as the file names it (a URL in FHIR files, an OID in SVS files).
    pub system: String,
}

/// A value set: its OID, a readable name, the file it came from and its codes.
#[derive(Debug, Clone)]
pub struct ValueSet {
    pub oid: String,
    pub name: String,
    pub file: PathBuf,
    pub concepts: Vec<Concept>,
}

/// A typeCode and its class, as the correspondence file gives them (systems resolved later).
#[derive(Debug, Clone)]
struct ClassRow {
    type_system: String,
    type_code: String,
    class_system: String,
    class_code: String,
}

/// How a coded value compares with a value set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Membership {
    Member,
    /// The code is in the set but under another codingScheme; the schemes it may carry.
    WrongScheme(Vec<String>),
    Absent,
}

/// Every value set of a folder, by OID, with the codingScheme values of each system.
#[derive(Debug, Clone, Default)]
pub struct Catalogue {
    sets: BTreeMap<String, ValueSet>,
    /// System (URL or OID) -> codingScheme values.
    schemes: HashMap<String, Vec<String>>,
    class_rows: Vec<ClassRow>,
    class_file: Option<PathBuf>,
    /// Files read, in order.
    pub files: Vec<PathBuf>,
}

impl Catalogue {
    /// Reads every `.json`, `.xml` and `.csv` file of `dir` (other files, such as a README,
    /// are skipped). `systems` adds or overrides URL -> codingScheme entries.
    pub fn load_dir(
        dir: &Path,
        systems: &BTreeMap<String, Vec<String>>,
    ) -> Result<Self, LoadError> {
        let entries = fs::read_dir(dir).map_err(|error| {
            LoadError::new(dir, format!("cannot read the value-set folder: {error}"))
        })?;
        let mut paths = Vec::new();
        for entry in entries {
            let entry =
                entry.map_err(|error| LoadError::new(dir, format!("cannot list: {error}")))?;
            paths.push(entry.path());
        }
        paths.sort();
        let mut catalogue = Self::default();
        for (url, oid) in SYSTEM_SCHEMES {
            catalogue
                .schemes
                .insert((*url).to_owned(), vec![(*oid).to_owned()]);
        }
        for path in paths {
            let hidden = path
                .file_name()
                .and_then(|name| name.to_str())
                .is_none_or(|name| name.starts_with('.'));
            let extension = path
                .extension()
                .and_then(|extension| extension.to_str())
                .map(str::to_ascii_lowercase);
            if hidden || !path.is_file() {
                continue;
            }
            match extension.as_deref() {
                Some("json") => catalogue.read_fhir(&path)?,
                Some("xml") => catalogue.add(read_svs(&path)?, &path)?,
                Some("csv") => catalogue.read_class_map(&path)?,
                _ => continue,
            }
            catalogue.files.push(path);
        }
        for (system, schemes) in systems {
            catalogue.schemes.insert(system.clone(), schemes.clone());
        }
        Ok(catalogue)
    }

    fn add(&mut self, set: ValueSet, path: &Path) -> Result<(), LoadError> {
        if let Some(other) = self.sets.get(&set.oid) {
            return Err(LoadError::new(
                path,
                format!(
                    "value set {} is also defined by {}",
                    set.oid,
                    other.file.display()
                ),
            ));
        }
        self.sets.insert(set.oid.clone(), set);
        Ok(())
    }

    fn read_fhir(&mut self, path: &Path) -> Result<(), LoadError> {
        let text = read_text(path)?;
        let resource: FhirResource = serde_json::from_str(&text)
            .map_err(|error| LoadError::new(path, format!("not valid FHIR JSON: {error}")))?;
        let oid = resource
            .identifier
            .iter()
            .find_map(|identifier| identifier.value.strip_prefix("urn:oid:"))
            .map(str::to_owned);
        let name = resource
            .title
            .or(resource.name)
            .unwrap_or_else(|| file_stem(path));
        let kind = resource.resource_type.as_str();
        let concepts = match kind {
            "ValueSet" => value_set_concepts(path, resource.compose, resource.expansion)?,
            "CodeSystem" => {
                let url = resource
                    .url
                    .ok_or_else(|| LoadError::new(path, "the CodeSystem has no url"))?;
                let mut concepts = Vec::new();
                flatten(&resource.concept, &url, &mut concepts);
                if concepts.is_empty() {
                    return Err(LoadError::new(path, "the CodeSystem lists no concept"));
                }
                // A code system is also the value set of all its codes, and names its OID.
                if let Some(oid) = &oid {
                    self.schemes.entry(url).or_insert_with(|| vec![oid.clone()]);
                }
                concepts
            }
            other => {
                return Err(LoadError::new(
                    path,
                    format!("resourceType {other:?} is neither ValueSet nor CodeSystem"),
                ));
            }
        };
        let oid = oid.ok_or_else(|| {
            LoadError::new(path, format!("the {kind} has no urn:oid: identifier"))
        })?;
        self.add(
            ValueSet {
                oid,
                name,
                file: path.to_owned(),
                concepts,
            },
            path,
        )
    }

    fn read_class_map(&mut self, path: &Path) -> Result<(), LoadError> {
        const COLUMNS: [&str; 4] = ["typeCodeSystem", "typeCode", "classCodeSystem", "classCode"];
        let text = read_text(path)?;
        let mut lines = text
            .lines()
            .enumerate()
            .filter(|(_, line)| !line.trim().is_empty());
        let Some((_, header)) = lines.next() else {
            return Err(LoadError::new(path, "empty file"));
        };
        let header = csv_fields(header)
            .ok_or_else(|| LoadError::new(path, "line 1: unterminated quoted field"))?;
        let mut index = [0usize; 4];
        for (slot, column) in index.iter_mut().zip(COLUMNS) {
            *slot = header
                .iter()
                .position(|name| name.trim() == column)
                .ok_or_else(|| {
                    LoadError::new(
                        path,
                        format!(
                            "line 1: no {column} column (a typeCode -> classCode file has the columns {})",
                            COLUMNS.join(", ")
                        ),
                    )
                })?;
        }
        if let Some(previous) = &self.class_file {
            return Err(LoadError::new(
                path,
                format!(
                    "a second typeCode -> classCode file (the first is {})",
                    previous.display()
                ),
            ));
        }
        for (number, line) in lines {
            let fields = csv_fields(line).ok_or_else(|| {
                LoadError::new(
                    path,
                    format!("line {}: unterminated quoted field", number + 1),
                )
            })?;
            if fields.len() != header.len() {
                return Err(LoadError::new(
                    path,
                    format!(
                        "line {}: {} fields where the header has {}",
                        number + 1,
                        fields.len(),
                        header.len()
                    ),
                ));
            }
            let [type_system, type_code, class_system, class_code] =
                index.map(|at| fields[at].trim().to_owned());
            if type_code.is_empty() {
                return Err(LoadError::new(
                    path,
                    format!("line {}: empty typeCode", number + 1),
                ));
            }
            self.class_rows.push(ClassRow {
                type_system,
                type_code,
                class_system,
                class_code,
            });
        }
        if self.class_rows.is_empty() {
            return Err(LoadError::new(path, "no correspondence rows"));
        }
        self.class_file = Some(path.to_owned());
        Ok(())
    }

    pub fn get(&self, oid: &str) -> Option<&ValueSet> {
        self.sets.get(oid)
    }

    pub fn len(&self) -> usize {
        self.sets.len()
    }

    pub fn is_empty(&self) -> bool {
        self.sets.is_empty()
    }

    pub fn value_sets(&self) -> impl Iterator<Item = &ValueSet> {
        self.sets.values()
    }

    /// The codingScheme values of a system (an OID or `urn:oid:` stands for itself); empty when
    /// unknown.
    pub fn schemes(&self, system: &str) -> Vec<String> {
        if let Some(schemes) = self.schemes.get(system) {
            return schemes.clone();
        }
        if let Some(oid) = system.strip_prefix("urn:oid:") {
            return vec![oid.to_owned()];
        }
        if xds::model::Oid::is_valid(system) || system == "ASTM" || system == "URN" {
            return vec![system.to_owned()];
        }
        Vec::new()
    }

    /// The typeCode -> classCode correspondence, resolved to codingScheme values, and the file
    /// it came from; `None` when the folder has none.
    pub fn class_map(&self) -> Result<Option<(ClassMap, PathBuf)>, LoadError> {
        let Some(file) = &self.class_file else {
            return Ok(None);
        };
        let mut map = ClassMap::default();
        for row in &self.class_rows {
            let type_schemes = self.resolved(&row.type_system, file)?;
            let class = if row.class_code.is_empty() {
                None
            } else {
                Some(ImpliedClass {
                    code: row.class_code.clone(),
                    schemes: self.resolved(&row.class_system, file)?,
                })
            };
            for scheme in type_schemes {
                map.classes
                    .insert((row.type_code.clone(), scheme), class.clone());
            }
        }
        Ok(Some((map, file.clone())))
    }

    fn resolved(&self, system: &str, file: &Path) -> Result<Vec<String>, LoadError> {
        let schemes = self.schemes(system);
        if schemes.is_empty() {
            return Err(unknown_system(file, system));
        }
        Ok(schemes)
    }

    /// A value set ready for checks: every system resolved to its codingScheme values.
    pub fn binding(&self, oid: &str) -> Option<Result<BoundSet, LoadError>> {
        let set = self.sets.get(oid)?;
        let mut codes: HashMap<String, Vec<String>> = HashMap::new();
        for concept in &set.concepts {
            let schemes = self.schemes(&concept.system);
            if schemes.is_empty() {
                return Some(Err(unknown_system(&set.file, &concept.system)));
            }
            codes
                .entry(concept.code.clone())
                .or_default()
                .extend(schemes);
        }
        Some(Ok(BoundSet {
            oid: set.oid.clone(),
            name: set.name.clone(),
            codes,
        }))
    }
}

fn unknown_system(file: &Path, system: &str) -> LoadError {
    LoadError::new(
        file,
        format!(
            "code system {system:?} has no known OID; map it under [profile.code_systems] (\"{system}\" = [\"<OID>\"])"
        ),
    )
}

/// A value set bound to an attribute: code -> codingScheme values it may carry.
#[derive(Debug, Clone)]
pub struct BoundSet {
    pub oid: String,
    pub name: String,
    codes: HashMap<String, Vec<String>>,
}

impl BoundSet {
    /// A set of its own (affinity-domain code lists, tests).
    pub fn from_codes(oid: &str, name: &str, codes: &[(&str, &str)]) -> Self {
        let mut map: HashMap<String, Vec<String>> = HashMap::new();
        for (code, scheme) in codes {
            map.entry((*code).to_owned())
                .or_default()
                .push((*scheme).to_owned());
        }
        Self {
            oid: oid.to_owned(),
            name: name.to_owned(),
            codes: map,
        }
    }

    pub fn check(&self, code: &str, scheme: Option<&str>) -> Membership {
        match self.codes.get(code) {
            None => Membership::Absent,
            Some(schemes) => match scheme {
                Some(scheme) if !schemes.iter().any(|known| known == scheme) => {
                    Membership::WrongScheme(schemes.clone())
                }
                _ => Membership::Member,
            },
        }
    }

    /// Why `code` does not belong to this set, or `None` when it does: `ATTRIBUTE CODE (SCHEME)
    /// is not in LABEL`, or the codingScheme it should carry.
    pub fn problem(&self, attribute: &str, code: &xds::model::Code) -> Option<String> {
        match self.check(&code.code, Some(&code.coding_scheme)) {
            Membership::Member => None,
            Membership::WrongScheme(schemes) => Some(format!(
                "{attribute} {}: codingScheme {:?} is not the code system of this code in {} (expected {})",
                code.code,
                code.coding_scheme,
                self.label(),
                schemes.join(" or ")
            )),
            Membership::Absent => Some(format!(
                "{attribute} {} ({}) is not in {}",
                code.code,
                code.coding_scheme,
                self.label()
            )),
        }
    }

    /// Every (code, codingScheme) pair, sorted.
    pub fn codes(&self) -> Vec<(String, String)> {
        let mut pairs: Vec<(String, String)> = self
            .codes
            .iter()
            .flat_map(|(code, schemes)| {
                schemes
                    .iter()
                    .map(move |scheme| (code.clone(), scheme.clone()))
            })
            .collect();
        pairs.sort();
        pairs
    }

    pub fn contains_code(&self, code: &str) -> bool {
        self.codes.contains_key(code)
    }

    pub fn len(&self) -> usize {
        self.codes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.codes.is_empty()
    }

    /// `JDV_J66 TypeCode DMP (1.2.250.1.213.1.1.5.7)`, or the name alone for a set without
    /// OID, for messages.
    pub fn label(&self) -> String {
        if self.oid.is_empty() {
            self.name.clone()
        } else {
            format!("{} ({})", self.name, self.oid)
        }
    }
}

/// The classCode a typeCode implies: its code and the codingScheme values it may carry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImpliedClass {
    pub code: String,
    pub schemes: Vec<String>,
}

/// typeCode (code, codingScheme) -> the class it implies, or `None` when the correspondence
/// gives no class for it.
#[derive(Debug, Clone, Default)]
pub struct ClassMap {
    classes: HashMap<(String, String), Option<ImpliedClass>>,
}

impl ClassMap {
    /// `None`: the typeCode is not in the table; `Some(None)`: in it, without a class.
    pub fn class_of(&self, code: &str, scheme: &str) -> Option<Option<&ImpliedClass>> {
        self.classes
            .get(&(code.to_owned(), scheme.to_owned()))
            .map(Option::as_ref)
    }

    pub fn len(&self) -> usize {
        self.classes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.classes.is_empty()
    }
}

fn read_text(path: &Path) -> Result<String, LoadError> {
    let bytes =
        fs::read(path).map_err(|error| LoadError::new(path, format!("cannot read: {error}")))?;
    let text = String::from_utf8(bytes).map_err(|error| {
        LoadError::new(
            path,
            format!("not UTF-8 (byte {})", error.utf8_error().valid_up_to()),
        )
    })?;
    Ok(text.strip_prefix('\u{feff}').unwrap_or(&text).to_owned())
}

fn file_stem(path: &Path) -> String {
    path.file_stem()
        .and_then(|stem| stem.to_str())
        .unwrap_or_default()
        .to_owned()
}

#[derive(Deserialize)]
struct FhirResource {
    #[serde(rename = "resourceType")]
    resource_type: String,
    url: Option<String>,
    #[serde(default)]
    identifier: Vec<FhirIdentifier>,
    name: Option<String>,
    title: Option<String>,
    compose: Option<FhirCompose>,
    expansion: Option<FhirExpansion>,
    #[serde(default)]
    concept: Vec<FhirConcept>,
}

#[derive(Deserialize)]
struct FhirIdentifier {
    #[serde(default)]
    value: String,
}

#[derive(Deserialize)]
struct FhirCompose {
    #[serde(default)]
    include: Vec<FhirInclude>,
    #[serde(default)]
    exclude: Vec<FhirInclude>,
}

#[derive(Deserialize)]
struct FhirInclude {
    system: Option<String>,
    #[serde(default)]
    concept: Vec<FhirConcept>,
    #[serde(default)]
    filter: Vec<serde_json::Value>,
    #[serde(default, rename = "valueSet")]
    value_set: Vec<String>,
}

#[derive(Deserialize)]
struct FhirConcept {
    code: String,
    #[serde(default)]
    display: String,
    /// CodeSystem concepts may nest.
    #[serde(default)]
    concept: Vec<FhirConcept>,
}

#[derive(Deserialize)]
struct FhirExpansion {
    #[serde(default)]
    contains: Vec<FhirContains>,
}

#[derive(Deserialize)]
struct FhirContains {
    system: Option<String>,
    code: Option<String>,
    #[serde(default)]
    display: String,
    #[serde(default)]
    contains: Vec<FhirContains>,
}

fn flatten(concepts: &[FhirConcept], system: &str, out: &mut Vec<Concept>) {
    for concept in concepts {
        out.push(Concept {
            code: concept.code.clone(),
            display: concept.display.clone(),
            system: system.to_owned(),
        });
        flatten(&concept.concept, system, out);
    }
}

fn flatten_expansion(contains: &[FhirContains], out: &mut Vec<Concept>) {
    for item in contains {
        if let (Some(system), Some(code)) = (&item.system, &item.code) {
            out.push(Concept {
                code: code.clone(),
                display: item.display.clone(),
                system: system.clone(),
            });
        }
        flatten_expansion(&item.contains, out);
    }
}

/// The codes of a ValueSet: its expansion when it has one, else its enumerated includes minus
/// its excludes. Intensional definitions (filters, whole systems, other value sets) need the
/// code system to expand, so they are refused: publish an expanded file instead.
fn value_set_concepts(
    path: &Path,
    compose: Option<FhirCompose>,
    expansion: Option<FhirExpansion>,
) -> Result<Vec<Concept>, LoadError> {
    if let Some(expansion) = expansion
        && !expansion.contains.is_empty()
    {
        let mut concepts = Vec::new();
        flatten_expansion(&expansion.contains, &mut concepts);
        return Ok(concepts);
    }
    let compose = compose
        .ok_or_else(|| LoadError::new(path, "the ValueSet has neither compose nor expansion"))?;
    let mut concepts = Vec::new();
    for include in &compose.include {
        let system = include.system.as_deref().unwrap_or_default();
        if !include.filter.is_empty() || !include.value_set.is_empty() || include.concept.is_empty()
        {
            return Err(LoadError::new(
                path,
                format!(
                    "the include of {system:?} does not enumerate its codes (filters, whole code systems and nested value sets are not expanded here; use an expanded file)"
                ),
            ));
        }
        if system.is_empty() {
            return Err(LoadError::new(path, "an include has no system"));
        }
        flatten(&include.concept, system, &mut concepts);
    }
    for exclude in &compose.exclude {
        let system = exclude.system.as_deref().unwrap_or_default();
        concepts.retain(|concept| {
            !(concept.system == system
                && exclude
                    .concept
                    .iter()
                    .any(|excluded| excluded.code == concept.code))
        });
    }
    if concepts.is_empty() {
        return Err(LoadError::new(path, "the ValueSet lists no concept"));
    }
    Ok(concepts)
}

/// Reads an IHE SVS value set (`RetrieveValueSetResponse` or `ValueSet` root).
fn read_svs(path: &Path) -> Result<ValueSet, LoadError> {
    let text = read_text(path)?;
    let mut oid = None;
    let mut name = None;
    let mut concepts = Vec::new();
    scan_elements(&text, |element| {
        if element.depth == 0
            && element.local != "RetrieveValueSetResponse"
            && element.local != "ValueSet"
        {
            return Err(format!(
                "root element <{}> is not an IHE SVS value set (RetrieveValueSetResponse)",
                element.local
            ));
        }
        match element.local.as_str() {
            "ValueSet" if oid.is_none() => {
                oid = element.attribute("id").map(str::to_owned);
                name = element.attribute("displayName").map(str::to_owned);
            }
            "Concept" => {
                let (Some(code), Some(system)) =
                    (element.attribute("code"), element.attribute("codeSystem"))
                else {
                    return Err(format!(
                        "concept {} lacks its code or codeSystem attribute",
                        concepts.len() + 1
                    ));
                };
                concepts.push(Concept {
                    code: code.to_owned(),
                    display: element
                        .attribute("displayName")
                        .unwrap_or_default()
                        .to_owned(),
                    system: system.to_owned(),
                });
            }
            _ => {}
        }
        Ok(())
    })
    .map_err(|error| LoadError::new(path, error.to_string()))?;
    let Some(oid) = oid.filter(|oid| !oid.is_empty()) else {
        return Err(LoadError::new(path, "no ValueSet element with an id"));
    };
    if concepts.is_empty() {
        return Err(LoadError::new(path, "the value set lists no Concept"));
    }
    let name = name
        .map(|name| name.trim_end_matches(".tabs").to_owned())
        .unwrap_or_else(|| file_stem(path));
    Ok(ValueSet {
        oid,
        name,
        file: path.to_owned(),
        concepts,
    })
}

/// Splits one CSV line (RFC 4180 quoting; no line breaks inside fields). `None` when a quoted
/// field does not end.
fn csv_fields(line: &str) -> Option<Vec<String>> {
    let mut fields = Vec::new();
    let mut field = String::new();
    let mut chars = line.chars().peekable();
    let mut quoted = false;
    let mut at_start = true;
    while let Some(c) = chars.next() {
        if quoted {
            if c == '"' {
                if chars.peek() == Some(&'"') {
                    chars.next();
                    field.push('"');
                } else {
                    quoted = false;
                }
            } else {
                field.push(c);
            }
        } else if c == '"' && at_start {
            quoted = true;
            at_start = false;
        } else if c == ',' {
            fields.push(std::mem::take(&mut field));
            at_start = true;
        } else {
            field.push(c);
            at_start = false;
        }
    }
    if quoted {
        return None;
    }
    fields.push(field);
    Some(fields)
}

/// An affinity-domain code list in the NIST XDS Toolkit `codes.xml` format: `<Codes>` holding
/// `<CodeType name="typeCode">` elements with `<Code code=".." codingScheme=".."/>`.
#[derive(Debug, Clone, Default)]
pub struct CodeList {
    pub file: PathBuf,
    /// Attribute name (`classCode`, `typeCode`, ..., `mimeType`) -> its codes.
    pub types: BTreeMap<String, BoundSet>,
}

impl CodeList {
    pub fn load(path: &Path) -> Result<Self, LoadError> {
        let text = read_text(path)?;
        // CodeType name -> (code, codingScheme), and the CodeType being read (depth 1).
        let mut raw: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
        let mut current: Option<String> = None;
        scan_elements(&text, |element| {
            match (element.depth, element.local.as_str()) {
                (0, "Codes") => {}
                (0, _) => {
                    return Err("root element is not <Codes> (NIST codes.xml format)".to_owned());
                }
                (1, "CodeType") => {
                    let name = element
                        .attribute("name")
                        .ok_or("a CodeType has no name attribute")?
                        .to_owned();
                    raw.entry(name.clone()).or_default();
                    current = Some(name);
                }
                (1, _) => current = None,
                (2, "Code") => {
                    let Some(kind) = &current else {
                        return Err("a Code outside any CodeType".to_owned());
                    };
                    let code = element
                        .attribute("code")
                        .ok_or_else(|| format!("a {kind} Code has no code"))?;
                    let scheme = element.attribute("codingScheme").unwrap_or_default();
                    raw.entry(kind.clone())
                        .or_default()
                        .push((code.to_owned(), scheme.to_owned()));
                }
                _ => {}
            }
            Ok(())
        })
        .map_err(|error| LoadError::new(path, error.to_string()))?;
        if raw.is_empty() {
            return Err(LoadError::new(path, "no CodeType"));
        }
        let types = raw
            .into_iter()
            .map(|(name, codes)| {
                let pairs: Vec<(&str, &str)> = codes
                    .iter()
                    .map(|(code, scheme)| (code.as_str(), scheme.as_str()))
                    .collect();
                let label = format!("the affinity domain's {name} list ({})", path.display());
                let set = BoundSet::from_codes("", &label, &pairs);
                (name, set)
            })
            .collect();
        Ok(Self {
            file: path.to_owned(),
            types,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_quoting() {
        assert_eq!(
            csv_fields("a,\"b, c\",\"d \"\"e\"\"\",").expect("parses"),
            vec!["a", "b, c", "d \"e\"", ""]
        );
        assert!(csv_fields("a,\"b").is_none());
    }
}
