//! Identity types that parse, so the rest of the code never sees an invalid one:
//! resident ID numbers (GB 11643), unified social credit codes (GB 32100), region codes
//! (GB/T 2260 style), usernames, passwords, phone numbers.

use std::fmt;

use kernel::auth::{Role, RoleBinding};
use kernel::time::Timestamp;
use serde::{Deserialize, Serialize};
use time::{Date, Month};
use utoipa::ToSchema;

/// Defines `Serialize`/`Deserialize` (via `parse`) and `Display` for a string newtype.
macro_rules! string_newtype {
    ($name:ident, $what:literal) => {
        impl $name {
            /// The value as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
        impl Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&self.0)
            }
        }
        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let raw = String::deserialize(d)?;
                $name::parse(&raw).map_err(serde::de::Error::custom)
            }
        }
        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                utoipa::openapi::ObjectBuilder::new()
                    .schema_type(utoipa::openapi::schema::Type::String)
                    .description(Some($what))
                    .into()
            }
        }
        impl utoipa::ToSchema for $name {}
    };
}

/// Sex as derived from a resident ID number.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Sex {
    /// Odd sequence digit.
    Male,
    /// Even sequence digit.
    Female,
}

impl Sex {
    /// Stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Sex::Male => "male",
            Sex::Female => "female",
        }
    }
}

/// A resident identity card number (GB 11643-1999): 6-digit region, 8-digit birth date,
/// 3-digit sequence (odd for men), ISO 7064 MOD 11-2 check character.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ResidentId(String);
string_newtype!(
    ResidentId,
    "Resident ID number (GB 11643): 18 characters, last is the MOD 11-2 check digit (0-9 or X)"
);

const RESIDENT_WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const RESIDENT_CHECK: [char; 11] = ['1', '0', 'X', '9', '8', '7', '6', '5', '4', '3', '2'];

impl ResidentId {
    /// The check character for the first 17 digits.
    pub fn check_char(first17: &str) -> Option<char> {
        if first17.len() != 17 || !first17.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let sum: u32 = first17
            .bytes()
            .zip(RESIDENT_WEIGHTS)
            .map(|(b, w)| u32::from(b - b'0') * w)
            .sum();
        Some(RESIDENT_CHECK[(sum % 11) as usize])
    }

    /// Parses and validates a resident ID (a lowercase `x` is accepted and upper-cased).
    pub fn parse(raw: &str) -> Result<ResidentId, String> {
        let value = raw.trim().to_ascii_uppercase();
        if value.chars().count() != 18 || !value.is_ascii() {
            return Err(
                "a resident ID number has 18 characters: 17 digits and a digit or X".into(),
            );
        }
        let (body, last) = value.split_at(17);
        if !body.bytes().all(|b| b.is_ascii_digit()) {
            return Err("the first 17 characters of a resident ID number are digits".into());
        }
        if !(last.as_bytes()[0].is_ascii_digit() || last == "X") {
            return Err("the last character of a resident ID number is a digit or X".into());
        }
        let id = ResidentId(value.clone());
        id.birth_date().ok_or(
            "the birth date in the resident ID number (characters 7-14) is not a valid date",
        )?;
        let expected = ResidentId::check_char(body).unwrap_or('?');
        if last.as_bytes()[0] as char != expected {
            return Err(format!(
                "the check digit of the resident ID number is wrong (expected {expected})"
            ));
        }
        Ok(id)
    }

    /// The birth date encoded in characters 7–14.
    pub fn birth_date(&self) -> Option<Date> {
        let digits = &self.0[6..14];
        let year: i32 = digits[0..4].parse().ok()?;
        let month: u8 = digits[4..6].parse().ok()?;
        let day: u8 = digits[6..8].parse().ok()?;
        if !(1870..=2200).contains(&year) {
            return None;
        }
        Date::from_calendar_date(year, Month::try_from(month).ok()?, day).ok()
    }

    /// The sex encoded in character 17.
    pub fn sex(&self) -> Sex {
        if (self.0.as_bytes()[16] - b'0') % 2 == 1 {
            Sex::Male
        } else {
            Sex::Female
        }
    }

    /// The six-digit region of first registration.
    pub fn region_prefix(&self) -> &str {
        &self.0[0..6]
    }

    /// Masked for lists: `1101**********002X`.
    pub fn masked(&self) -> String {
        kernel::crypto::mask_resident_id(&self.0)
    }
}

/// A unified social credit code (GB 32100-2015): 18 characters from a 31-character
/// alphabet, with a weighted MOD 31 check character.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct CreditCode(String);
string_newtype!(
    CreditCode,
    "Unified social credit code (GB 32100): 18 characters, last is the MOD 31 check character"
);

const CREDIT_ALPHABET: &str = "0123456789ABCDEFGHJKLMNPQRTUWXY";
const CREDIT_WEIGHTS: [u32; 17] = [
    1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
];

impl CreditCode {
    /// The check character for the first 17 characters.
    pub fn check_char(first17: &str) -> Option<char> {
        let mut sum = 0;
        for (c, w) in first17.chars().zip(CREDIT_WEIGHTS) {
            sum += CREDIT_ALPHABET.find(c)? as u32 * w;
        }
        if first17.chars().count() != 17 {
            return None;
        }
        let check = (31 - sum % 31) % 31;
        CREDIT_ALPHABET.chars().nth(check as usize)
    }

    /// Parses and validates a code (lowercase letters are upper-cased).
    pub fn parse(raw: &str) -> Result<CreditCode, String> {
        let value = raw.trim().to_ascii_uppercase();
        if value.chars().count() != 18 {
            return Err("a unified social credit code has 18 characters".into());
        }
        if let Some(bad) = value.chars().find(|c| !CREDIT_ALPHABET.contains(*c)) {
            return Err(format!(
                "'{bad}' cannot appear in a unified social credit code (I, O, S, V and Z are never used)"
            ));
        }
        if !value[2..8].bytes().all(|b| b.is_ascii_digit()) {
            return Err(
                "characters 3-8 of a unified social credit code are the region code".into(),
            );
        }
        let expected = CreditCode::check_char(&value[..17]).unwrap_or('?');
        if !value.ends_with(expected) {
            return Err(format!(
                "the check character of the unified social credit code is wrong (expected {expected})"
            ));
        }
        Ok(CreditCode(value))
    }
}

/// The level of a region.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RegionLevel {
    /// 省 (code `XX0000`).
    Province,
    /// 市 (code `XXXX00`).
    City,
    /// 区/县 (other six-digit codes).
    County,
    /// 街道/乡镇 (nine digits).
    Township,
    /// 社区/村 (twelve digits).
    Community,
}

impl RegionLevel {
    /// Stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            RegionLevel::Province => "province",
            RegionLevel::City => "city",
            RegionLevel::County => "county",
            RegionLevel::Township => "township",
            RegionLevel::Community => "community",
        }
    }

    /// Parses a stored name.
    pub fn parse(s: &str) -> Option<RegionLevel> {
        Some(match s {
            "province" => RegionLevel::Province,
            "city" => RegionLevel::City,
            "county" => RegionLevel::County,
            "township" => RegionLevel::Township,
            "community" => RegionLevel::Community,
            _ => return None,
        })
    }
}

/// A region code of 6 (province, city, county), 9 (township) or 12 (community) digits.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RegionCode(String);
string_newtype!(
    RegionCode,
    "Region code (GB/T 2260 style): 6 digits for province/city/county, 9 for township, 12 for community"
);

impl RegionCode {
    /// Parses a code of 6, 9 or 12 digits.
    pub fn parse(raw: &str) -> Result<RegionCode, String> {
        let value = raw.trim();
        if !matches!(value.len(), 6 | 9 | 12) || !value.bytes().all(|b| b.is_ascii_digit()) {
            return Err("a region code has 6, 9 or 12 digits".into());
        }
        if &value[0..2] == "00" {
            return Err("a region code does not start with 00".into());
        }
        Ok(RegionCode(value.to_string()))
    }

    /// The level the code's shape implies.
    pub fn level(&self) -> RegionLevel {
        match self.0.len() {
            12 => RegionLevel::Community,
            9 => RegionLevel::Township,
            _ if &self.0[2..6] == "0000" => RegionLevel::Province,
            _ if &self.0[4..6] == "00" => RegionLevel::City,
            _ => RegionLevel::County,
        }
    }

    /// The code of the enclosing region, or `None` for a province.
    pub fn parent(&self) -> Option<RegionCode> {
        let parent = match self.level() {
            RegionLevel::Province => return None,
            RegionLevel::City => format!("{}0000", &self.0[0..2]),
            RegionLevel::County => format!("{}00", &self.0[0..4]),
            RegionLevel::Township => self.0[0..6].to_string(),
            RegionLevel::Community => self.0[0..9].to_string(),
        };
        Some(RegionCode(parent))
    }
}

/// What kind of organisation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OrgKind {
    /// 政府部门.
    GovernmentDepartment,
    /// 医院.
    Hospital,
    /// 学校.
    School,
    /// 养老服务机构.
    CareProvider,
    /// 用人单位.
    Employer,
    /// 社区居委会/村委会.
    CommunityCommittee,
    /// 其他.
    Other,
}

impl OrgKind {
    /// All kinds, for forms.
    pub const ALL: [OrgKind; 7] = [
        OrgKind::GovernmentDepartment,
        OrgKind::Hospital,
        OrgKind::School,
        OrgKind::CareProvider,
        OrgKind::Employer,
        OrgKind::CommunityCommittee,
        OrgKind::Other,
    ];

    /// Stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            OrgKind::GovernmentDepartment => "government_department",
            OrgKind::Hospital => "hospital",
            OrgKind::School => "school",
            OrgKind::CareProvider => "care_provider",
            OrgKind::Employer => "employer",
            OrgKind::CommunityCommittee => "community_committee",
            OrgKind::Other => "other",
        }
    }

    /// Parses a stored name.
    pub fn parse(s: &str) -> Option<OrgKind> {
        OrgKind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// Label in Chinese and English.
    pub fn label(self) -> (&'static str, &'static str) {
        match self {
            OrgKind::GovernmentDepartment => ("政府部门", "Government department"),
            OrgKind::Hospital => ("医院", "Hospital"),
            OrgKind::School => ("学校", "School"),
            OrgKind::CareProvider => ("养老服务机构", "Care provider"),
            OrgKind::Employer => ("用人单位", "Employer"),
            OrgKind::CommunityCommittee => ("社区居委会", "Community committee"),
            OrgKind::Other => ("其他", "Other"),
        }
    }
}

/// Administrative level of an organisation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AdminLevel {
    /// 国家级.
    National,
    /// 省级.
    Province,
    /// 市级.
    City,
    /// 区县级.
    County,
    /// 街道乡镇级.
    Township,
    /// 社区村级.
    Community,
}

impl AdminLevel {
    /// All levels, for forms.
    pub const ALL: [AdminLevel; 6] = [
        AdminLevel::National,
        AdminLevel::Province,
        AdminLevel::City,
        AdminLevel::County,
        AdminLevel::Township,
        AdminLevel::Community,
    ];

    /// Stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            AdminLevel::National => "national",
            AdminLevel::Province => "province",
            AdminLevel::City => "city",
            AdminLevel::County => "county",
            AdminLevel::Township => "township",
            AdminLevel::Community => "community",
        }
    }

    /// Parses a stored name.
    pub fn parse(s: &str) -> Option<AdminLevel> {
        AdminLevel::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// A login name: 3–32 characters of `a-z 0-9 . _ -`, starting with a letter or digit.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Username(String);
string_newtype!(Username, "Login name: 3-32 of a-z, 0-9, '.', '_', '-'");

impl Username {
    /// Parses a username (upper case is folded to lower case).
    pub fn parse(raw: &str) -> Result<Username, String> {
        let value = raw.trim().to_ascii_lowercase();
        if !(3..=32).contains(&value.len()) {
            return Err("a username has 3 to 32 characters".into());
        }
        if !value
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b))
        {
            return Err("a username uses only a-z, 0-9, '.', '_' and '-'".into());
        }
        if !value.as_bytes()[0].is_ascii_alphanumeric() {
            return Err("a username starts with a letter or digit".into());
        }
        Ok(Username(value))
    }
}

/// A new password: 10–128 characters.
#[derive(Clone)]
pub struct Password(String);

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(***)")
    }
}

impl Password {
    /// Checks the length rules.
    pub fn parse(raw: &str) -> Result<Password, String> {
        let n = raw.chars().count();
        if n < 10 {
            return Err("a password has at least 10 characters".into());
        }
        if n > 128 {
            return Err("a password has at most 128 characters".into());
        }
        Ok(Password(raw.to_string()))
    }

    /// The password itself.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

/// A phone number: a mainland mobile number (11 digits from 13–19) or a landline with
/// area code (e.g. `010-12345678`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Phone(String);
string_newtype!(
    Phone,
    "Phone: mobile (11 digits starting 13-19) or landline with area code"
);

impl Phone {
    /// Parses a phone number (spaces are removed).
    pub fn parse(raw: &str) -> Result<Phone, String> {
        let value: String = raw.chars().filter(|c| !c.is_whitespace()).collect();
        let bytes = value.as_bytes();
        let mobile = bytes.len() == 11
            && bytes[0] == b'1'
            && (b'3'..=b'9').contains(&bytes[1])
            && bytes.iter().all(u8::is_ascii_digit);
        let digits: String = value.chars().filter(|c| *c != '-').collect();
        let landline = value.starts_with('0')
            && value.matches('-').count() <= 1
            && (10..=12).contains(&digits.len())
            && digits.bytes().all(|b| b.is_ascii_digit());
        if mobile || landline {
            Ok(Phone(value))
        } else {
            Err("a phone number is an 11-digit mobile number or a landline with area code".into())
        }
    }
}

/// A region as the API shows it.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct Region {
    /// Code.
    pub code: String,
    /// Name.
    pub name: String,
    /// Level derived from the code.
    pub level: RegionLevel,
    /// Enclosing region.
    pub parent_code: Option<String>,
    /// Urban (城镇) or rural (农村).
    pub urban: bool,
}

/// `POST /api/v1/regions`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewRegion {
    /// 6, 9 or 12 digits; its parent must exist already (except provinces).
    pub code: RegionCode,
    /// Name, up to 64 characters.
    pub name: String,
    /// Urban (true) or rural (false).
    pub urban: bool,
}

/// An organisation as the API shows it.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct Organisation {
    /// Id.
    pub id: String,
    /// Unified social credit code.
    pub credit_code: String,
    /// Name.
    pub name: String,
    /// Kind.
    pub kind: OrgKind,
    /// Administrative level.
    pub level: AdminLevel,
    /// Region it serves or sits in.
    pub region_code: String,
    /// Parent organisation.
    pub parent_id: Option<String>,
    /// When it was registered.
    pub created_at: Timestamp,
}

/// `POST /api/v1/organisations`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewOrganisation {
    /// Unified social credit code.
    pub credit_code: CreditCode,
    /// Name, up to 128 characters.
    pub name: String,
    /// Kind.
    pub kind: OrgKind,
    /// Administrative level.
    pub level: AdminLevel,
    /// Region code (must exist).
    pub region: RegionCode,
    /// Parent organisation id.
    #[serde(default)]
    pub parent_id: Option<String>,
}

/// A person as lists show her: sensitive fields masked.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct PersonSummary {
    /// Id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Resident ID, masked.
    pub resident_id_masked: String,
    /// Phone, masked.
    pub phone_masked: Option<String>,
    /// Sex (from the resident ID).
    pub sex: Sex,
    /// Birth year (from the resident ID). Lists never show the full date: with the masked
    /// ID's visible digits it would give the whole number away.
    pub birth_year: i32,
    /// Address region (community).
    pub region_code: String,
    /// Household.
    pub household_id: Option<String>,
}

/// A person's full record, returned only to her, her proxy or an audited reader.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct PersonDetail {
    /// The masked summary.
    #[serde(flatten)]
    pub summary: PersonSummary,
    /// Resident ID in full.
    pub resident_id: String,
    /// Phone in full.
    pub phone: Option<String>,
    /// Street address in full.
    pub address: Option<String>,
    /// Birth date (from the resident ID), `YYYY-MM-DD`.
    pub birth_date: String,
    /// Name of the address region.
    pub region_name: Option<String>,
    /// The tags she carries (for audiences), and who put her on each.
    pub tags: Vec<PersonTag>,
    /// When the record was created.
    pub created_at: Timestamp,
}

/// `POST /api/v1/persons`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPerson {
    /// Resident ID number (validated, check digit included).
    pub resident_id: ResidentId,
    /// Name, up to 64 characters.
    pub name: String,
    /// Phone number.
    #[serde(default)]
    pub phone: Option<Phone>,
    /// Address region code (usually a community).
    pub region: RegionCode,
    /// Street address, up to 200 characters.
    #[serde(default)]
    pub address: Option<String>,
    /// Household to join; omit to start a new household.
    #[serde(default)]
    pub household_id: Option<String>,
}

/// An account as the API shows it.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct Account {
    /// Id.
    pub id: String,
    /// Login name.
    pub username: String,
    /// Display name.
    pub display_name: String,
    /// The person it belongs to.
    pub person_id: Option<String>,
    /// Roles held.
    pub roles: Vec<RoleBinding>,
    /// Whether sign-in is blocked.
    pub disabled: bool,
    /// When it was created.
    pub created_at: Timestamp,
}

/// `POST /api/v1/accounts`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewAccount {
    /// Login name.
    pub username: Username,
    /// Initial password (10-128 characters).
    pub password: String,
    /// Role: `platform_admin`, `org_admin`, `reviewer`, `clerk` or `citizen`.
    pub role: Role,
    /// Organisation id, for staff roles.
    #[serde(default)]
    pub organisation_id: Option<String>,
    /// Person id, for citizens (and optionally staff).
    #[serde(default)]
    pub person_id: Option<String>,
    /// Display name for accounts without a person.
    #[serde(default)]
    pub display_name: Option<String>,
}

/// `POST /api/v1/auth/login`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    /// Login name.
    pub username: String,
    /// Password.
    pub password: String,
}

/// A new session.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct LoginResponse {
    /// Bearer token: `Authorization: Bearer <token>`.
    pub token: String,
    /// When the token stops working.
    pub expires_at: Timestamp,
}

/// `GET /api/v1/me`.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Me {
    /// The account.
    pub account: Account,
    /// The account's person, masked.
    pub person: Option<PersonSummary>,
    /// When acting as a proxy: the person acted for, masked, and the authorisation.
    pub acting_for: Option<ActingForView>,
}

/// The person a proxy acts for.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ActingForView {
    /// The person, masked.
    pub person: PersonSummary,
    /// The authorisation in force.
    pub authorisation_id: String,
    /// Scopes it grants.
    pub scopes: Vec<String>,
}

/// What a proxy may do for the person who authorised her.
pub const PROXY_SCOPES: [(&str, &str, &str); 4] = [
    ("profile", "查看个人资料", "See the profile"),
    ("footprint", "查看数据足迹", "See the data footprint"),
    ("services", "代办政务服务", "Apply for services"),
    ("all", "全部事项", "Everything"),
];

/// A proxy authorisation (代办授权).
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct ProxyAuthorisation {
    /// Id.
    pub id: String,
    /// The person who authorised (e.g. the elder).
    pub principal_person_id: String,
    /// Her name.
    pub principal_name: String,
    /// The person authorised to act (e.g. a relative).
    pub proxy_person_id: String,
    /// Her name.
    pub proxy_name: String,
    /// Relationship, e.g. 子女.
    pub relationship: String,
    /// What the proxy may do.
    pub scopes: Vec<String>,
    /// When it lapses.
    pub expires_at: Timestamp,
    /// When it was revoked, if it was.
    pub revoked_at: Option<Timestamp>,
    /// When it was granted.
    pub created_at: Timestamp,
}

/// `POST /api/v1/me/proxies`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewProxy {
    /// Resident ID of the person to authorise.
    pub proxy_resident_id: ResidentId,
    /// That person's name: it must match the register, so that an ID number alone does
    /// not reveal who it belongs to.
    pub proxy_name: String,
    /// Relationship, up to 32 characters.
    pub relationship: String,
    /// Scopes: `profile`, `footprint`, `services`, `all`.
    pub scopes: Vec<String>,
    /// When the authorisation lapses (RFC 3339, at most 5 years ahead).
    pub expires_at: Timestamp,
}

/// A tag residents can carry for audiences (独居老人, 残疾人, 低保户…): defined by the
/// platform administrator for one organisation, whose staff put residents on it.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct Tag {
    /// Code (`lives-alone`): lower-case letters, digits and hyphens.
    pub code: String,
    /// Name in words.
    pub name: String,
    /// What it means and who is on it.
    pub description: String,
    /// The organisation that keeps the list.
    pub organisation_id: String,
    /// Its name.
    pub organisation_name: String,
    /// How many residents carry it.
    pub members: i64,
    /// When it was defined.
    pub created_at: Timestamp,
}

/// `POST /api/v1/tags` (platform administrator).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewTag {
    /// Code, 2–40 lower-case letters, digits and hyphens.
    pub code: String,
    /// Name, up to 40 characters.
    pub name: String,
    /// What it means, up to 200 characters.
    #[serde(default)]
    pub description: String,
    /// The organisation whose staff keep the list.
    pub organisation_id: String,
}

/// `POST /api/v1/tags/{code}/persons`: residents put on and taken off a tag.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TagChange {
    /// Person ids to tag (at most 1,000 per call).
    #[serde(default)]
    pub add: Vec<String>,
    /// Person ids to untag.
    #[serde(default)]
    pub remove: Vec<String>,
    /// Why (recorded in each resident's footprint).
    pub purpose: String,
}

/// What a tag change did.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct TagChanged {
    /// Residents newly tagged.
    pub added: u64,
    /// Residents untagged.
    pub removed: u64,
    /// Residents now carrying the tag.
    pub members: i64,
}

/// A tag a resident carries, as she (or an audited reader) sees it.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct PersonTag {
    /// Tag code.
    pub code: String,
    /// Its name.
    pub name: String,
    /// The organisation that put her on it.
    pub organisation_name: String,
    /// Since when.
    pub since: Timestamp,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resident_id_check_digit() {
        // GB 11643 example number.
        assert!(ResidentId::parse("11010519491231002X").is_ok());
        assert!(ResidentId::parse("11010519491231002x").is_ok());
        let wrong = ResidentId::parse("110105194912310021").unwrap_err();
        assert!(wrong.contains("expected X"), "{wrong}");
        assert!(ResidentId::parse("11010519491331002X").is_err()); // month 13
        assert!(ResidentId::parse("1101051949123100").is_err());
        // Eighteen characters, but not ASCII: refused, not a panic.
        assert!(ResidentId::parse("1101051949123100éé").is_err());
        assert!(ResidentId::parse("１１０１０５１９４９１２３１００２Ｘ").is_err());
        let id = ResidentId::parse("11010519491231002X").unwrap();
        assert_eq!(id.sex(), Sex::Female);
        assert_eq!(id.birth_date().unwrap().to_string(), "1949-12-31");
    }

    #[test]
    fn credit_code_check_character() {
        let body = "91990100MA0000001";
        let check = CreditCode::check_char(body).unwrap();
        let good = format!("{body}{check}");
        assert!(CreditCode::parse(&good).is_ok());
        let other = if check == '0' { '1' } else { '0' };
        assert!(CreditCode::parse(&format!("{body}{other}")).is_err());
        assert!(CreditCode::parse("91990100MA000000I1").is_err());
        // A published code with a known check character.
        assert!(CreditCode::parse("91350100M000100Y43").is_ok());
    }

    #[test]
    fn region_levels_and_parents() {
        let community = RegionCode::parse("990102001001").unwrap();
        assert_eq!(community.level(), RegionLevel::Community);
        assert_eq!(community.parent().unwrap().as_str(), "990102001");
        let county = RegionCode::parse("990102").unwrap();
        assert_eq!(county.level(), RegionLevel::County);
        assert_eq!(county.parent().unwrap().as_str(), "990100");
        assert_eq!(
            RegionCode::parse("990100").unwrap().level(),
            RegionLevel::City
        );
        assert_eq!(RegionCode::parse("990000").unwrap().parent(), None);
        assert!(RegionCode::parse("99010").is_err());
    }

    #[test]
    fn phones_and_usernames() {
        assert!(Phone::parse("138 1234 5678").is_ok());
        assert!(Phone::parse("010-12345678").is_ok());
        assert!(Phone::parse("12345").is_err());
        assert!(Username::parse("Demo-Admin").is_ok());
        assert!(Username::parse("x").is_err());
        assert!(Username::parse("bad name").is_err());
    }
}

/// How to reach a person (opened for a duty, and audited by the caller).
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Contact {
    /// Full name.
    pub name: String,
    /// Phone, when registered.
    pub phone: Option<String>,
    /// Address, when registered.
    pub address: Option<String>,
    /// The region she is registered in.
    pub region_code: String,
}
