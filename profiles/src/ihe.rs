//! `ihe-xds-b`: the IHE structural rules only, plus, when a deployment configures one, its
//! affinity-domain code list (NIST XDS Toolkit `codes.xml` format).

use xds::model::{Code, Metadata};
use xds::validate::{Findings, Profile, Rule};

use crate::valuesets::CodeList;
use crate::{ProfileConfig, ProfileError};

pub const NAME: &str = "ihe-xds-b";

pub const CODE_LIST: Rule = Rule::metadata(
    "IHE-CODE-LIST",
    "With an affinity-domain code list configured, every coded attribute it lists (and mimeType) takes one of its codes under the listed codingScheme.",
);

const RULES: &[Rule] = &[CODE_LIST];

/// The structural profile, with an optional affinity-domain code list.
#[derive(Debug, Clone, Default)]
pub struct IheProfile {
    codes: Option<CodeList>,
}

impl IheProfile {
    pub fn load(config: &ProfileConfig) -> Result<Self, ProfileError> {
        if config.valuesets.is_some() {
            return Err(ProfileError::Config(
                "profile.valuesets belongs to fr-dmp; ihe-xds-b takes an affinity-domain code list as profile.codes".to_owned(),
            ));
        }
        let codes = config.codes.as_deref().map(CodeList::load).transpose()?;
        Ok(Self { codes })
    }

    /// The code list in force, if any.
    pub fn code_list(&self) -> Option<&CodeList> {
        self.codes.as_ref()
    }

    fn check(&self, findings: &mut Findings, location: &str, attribute: &str, code: &Code) {
        let Some(set) = self
            .codes
            .as_ref()
            .and_then(|list| list.types.get(attribute))
        else {
            return;
        };
        if let Some(problem) = set.problem(attribute, code) {
            findings.report(&CODE_LIST, location, problem);
        }
    }
}

impl Profile for IheProfile {
    fn name(&self) -> &str {
        NAME
    }

    fn rules(&self) -> &[Rule] {
        if self.codes.is_some() { RULES } else { &[] }
    }

    fn validate_submission(&self, metadata: &Metadata, findings: &mut Findings) {
        let Some(list) = &self.codes else {
            return;
        };
        for set in &metadata.submission_sets {
            let location = format!("SubmissionSet {}", set.entry_uuid);
            if let Some(code) = &set.content_type_code {
                self.check(findings, &location, "contentTypeCode", code);
            }
        }
        for entry in &metadata.document_entries {
            let location = format!("DocumentEntry {}", entry.entry_uuid);
            let singles = [
                ("classCode", &entry.class_code),
                ("typeCode", &entry.type_code),
                ("formatCode", &entry.format_code),
                (
                    "healthcareFacilityTypeCode",
                    &entry.healthcare_facility_type_code,
                ),
                ("practiceSettingCode", &entry.practice_setting_code),
            ];
            for (attribute, code) in singles {
                if let Some(code) = code {
                    self.check(findings, &location, attribute, code);
                }
            }
            for code in &entry.confidentiality_codes {
                self.check(findings, &location, "confidentialityCode", code);
            }
            for code in &entry.event_codes {
                self.check(findings, &location, "eventCodeList", code);
            }
            if let (Some(mime), Some(set)) = (&entry.mime_type, list.types.get("mimeType"))
                && !set.contains_code(mime)
            {
                findings.report(
                    &CODE_LIST,
                    &location,
                    format!("mimeType {mime} is not in the affinity domain's code list"),
                );
            }
        }
        for folder in &metadata.folders {
            let location = format!("Folder {}", folder.entry_uuid);
            for code in &folder.codes {
                self.check(findings, &location, "folderCodeList", code);
            }
        }
    }
}
