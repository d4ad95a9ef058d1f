//! CAP 1.2 against the outside world: the standard's own examples and real alerts from FEMA
//! IPAWS, the US National Weather Service and Google (`../shared/testdata/cap/`). Each is
//! read, written back, and the written alert validates against the official schema and
//! reads back to the same alert. Then hostile and broken documents.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use safety::cap::{self, model::CapVersion, read, write};
use std::path::PathBuf;

fn testdata() -> PathBuf {
    let base = std::env::var("CIVITAS_SHARED_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared"));
    let dir = base.join("testdata").join("cap");
    assert!(
        dir.is_dir(),
        "CAP test data missing: {} (put ../shared beside the checkout or set CIVITAS_SHARED_DIR)",
        dir.display()
    );
    dir
}

fn alerts() -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(testdata())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "xml"))
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read(&p).unwrap(),
            )
        })
        .collect();
    files.sort();
    files
}

#[test]
fn the_shipped_schema_is_the_official_one() {
    let official = std::fs::read_to_string(testdata().join("cap12.xsd")).unwrap();
    assert_eq!(cap::CAP_1_2_XSD, official);
}

#[test]
fn every_test_alert_imports_and_its_export_validates_against_the_schema() {
    let files = alerts();
    assert!(files.len() >= 11, "{} files", files.len());
    for (name, bytes) in &files {
        let validation = cap::validate(bytes);
        assert!(validation.is_valid(), "{name}: {:#?}", validation.problems);
        let read = validation.read.unwrap();
        let exported = write::write(&read.alert);
        let problems = cap::schema_problems(exported.as_bytes());
        assert!(
            problems.is_empty(),
            "{name} export: {problems:#?}\n{exported}"
        );
        let again = read::read(exported.as_bytes()).unwrap();
        assert_eq!(
            again.alert, read.alert,
            "{name} does not read back the same"
        );
        assert_eq!(again.version, CapVersion::V1_2);
        assert!(cap::check::check(&again.alert).is_empty(), "{name}");
    }
}

#[test]
fn signed_alerts_keep_their_signature_verbatim_and_the_export_drops_it() {
    let (name, bytes) = alerts()
        .into_iter()
        .find(|(n, _)| n.starts_with("ipaws-5e6dd9de"))
        .unwrap();
    let read = read::read(&bytes).unwrap();
    let signature = read.signature.expect("IPAWS alerts are signed");
    assert!(
        signature.starts_with("<ds:Signature"),
        "{name}: {signature}"
    );
    assert!(signature.ends_with("</ds:Signature>"));
    assert!(String::from_utf8_lossy(&bytes).contains(&signature));
    assert!(!write::write(&read.alert).contains("Signature"));
}

#[test]
fn cap_1_1_is_upgraded_to_1_2() {
    let (_, bytes) = alerts()
        .into_iter()
        .find(|(n, _)| n.starts_with("nws-"))
        .unwrap();
    let read = read::read(&bytes).unwrap();
    assert_eq!(read.version, CapVersion::V1_1);
    assert!(write::write(&read.alert).contains("urn:oasis:names:tc:emergency:cap:1.2"));

    let older = r#"<?xml version="1.0"?>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.1">
  <identifier>KSTO1055887203</identifier><sender>KSTO@NWS.NOAA.GOV</sender>
  <sent>2003-06-17T14:57:00.123Z</sent><status>Actual</status><msgType>Alert</msgType>
  <scope>Public</scope>
  <info><category>Met</category><event>SEVERE THUNDERSTORM</event><urgency>Immediate</urgency>
    <severity>Severe</severity><certainty>Very Likely</certainty>
    <resource><resourceDesc>map</resourceDesc><uri>http://example.org/map</uri></resource>
    <area><areaDesc>EXTREME NORTH CENTRAL TUOLUMNE COUNTY</areaDesc></area></info>
</alert>"#;
    let validation = cap::validate(older.as_bytes());
    assert!(validation.is_valid(), "{:#?}", validation.problems);
    let read = validation.read.unwrap();
    assert_eq!(read.alert.sent, "2003-06-17T14:57:00-00:00");
    assert_eq!(read.alert.info[0].certainty, cap::model::Certainty::Likely);
    assert_eq!(
        read.alert.info[0].resource[0].mime_type,
        "application/octet-stream"
    );
    assert_eq!(read.upgrade_notes.len(), 3, "{:?}", read.upgrade_notes);
}

const MINIMAL: &str = r#"<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">
  <identifier>CN-DEMO-0001</identifier><sender>duty@safety.demo.gov.cn</sender>
  <sent>2026-07-21T14:00:00+08:00</sent><status>Actual</status><msgType>Alert</msgType>
  <scope>Public</scope>
  <info><language>zh-CN</language><category>Met</category><event>暴雨</event>
    <urgency>Expected</urgency><severity>Severe</severity><certainty>Likely</certainty>
    <area><areaDesc>河西区</areaDesc><polygon>30.1,120.1 30.2,120.1 30.2,120.2 30.1,120.1</polygon></area>
  </info>
</alert>"#;

#[test]
fn other_encodings_are_read_as_declared() {
    let text = MINIMAL.replace("暴雨", "Tempête").replace("河西区", "Côte");
    let (latin1, _, _) = encoding_rs::WINDOWS_1252.encode(&text);
    let mut document = b"<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>\n".to_vec();
    document.extend_from_slice(&latin1);
    let validation = cap::validate(&document);
    assert!(validation.is_valid(), "{:#?}", validation.problems);
    let read = validation.read.unwrap();
    assert_eq!(read.alert.info[0].event, "Tempête");
    assert_eq!(read.encoding, "windows-1252");

    let mut bad = b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>".to_vec();
    bad.extend_from_slice(&latin1);
    let problems = cap::validate(&bad).problems;
    assert!(
        problems
            .iter()
            .any(|p| p.message.contains("not valid UTF-8")),
        "{problems:#?}"
    );
}

#[test]
fn hostile_xml_is_refused() {
    let xxe = MINIMAL
        .replace(
            "<alert",
            "<!DOCTYPE alert [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>\n<alert",
        )
        .replace("暴雨", "&x;");
    let problems = cap::validate(xxe.as_bytes()).problems;
    assert!(
        problems.iter().any(|p| p.message.contains("DOCTYPE")),
        "{problems:#?}"
    );

    let laughs = format!(
        "<?xml version=\"1.0\"?><!DOCTYPE lolz [<!ENTITY lol \"lol\">{}]>{}",
        (1..10)
            .map(|i| format!(
                "<!ENTITY lol{i} \"{}\">",
                format!("&lol{};", i - 1).repeat(10)
            ))
            .collect::<String>(),
        MINIMAL.replace("暴雨", "&lol9;")
    );
    let problems = cap::validate(laughs.as_bytes()).problems;
    assert!(
        problems.iter().any(|p| p.message.contains("DOCTYPE")),
        "{problems:#?}"
    );

    let undeclared = MINIMAL.replace("暴雨", "&nbsp;");
    let problems = cap::validate(undeclared.as_bytes()).problems;
    assert!(
        problems.iter().any(|p| p.message.contains("&nbsp;")),
        "{problems:#?}"
    );

    let huge = format!(
        "{}{}</alert>",
        MINIMAL.trim_end_matches("</alert>"),
        " ".repeat(5 * 1024 * 1024)
    );
    let problems = cap::validate(huge.as_bytes()).problems;
    assert!(
        problems.iter().any(|p| p.message.contains("bytes")),
        "{problems:#?}"
    );

    let deep = format!(
        "{}{}{}</alert>",
        MINIMAL.trim_end_matches("</alert>"),
        "<note>".repeat(100),
        "</note>".repeat(100)
    );
    let problems = cap::validate(deep.as_bytes()).problems;
    assert!(
        problems.iter().any(|p| p.message.contains("nested")),
        "{problems:#?}"
    );
}

#[test]
fn the_rules_beyond_the_schema_name_their_element() {
    assert!(cap::validate(MINIMAL.as_bytes()).is_valid());
    let cases = [
        (
            "<identifier>CN-DEMO-0001</identifier>",
            "<identifier>CN DEMO,0001</identifier>",
            "alert/identifier",
        ),
        (
            "2026-07-21T14:00:00+08:00",
            "2026-02-30T14:00:00+08:00",
            "alert/sent",
        ),
        (
            "<scope>Public</scope>",
            "<scope>Restricted</scope>",
            "alert/restriction",
        ),
        (
            "<scope>Public</scope>",
            "<scope>Private</scope>",
            "alert/addresses",
        ),
        (
            "<msgType>Alert</msgType>",
            "<msgType>Cancel</msgType>",
            "alert/references",
        ),
        (
            "30.1,120.1 30.2,120.1 30.2,120.2 30.1,120.1",
            "30.1,120.1 30.2,120.1 30.2,120.2 30.3,120.1",
            "alert/info[1]/area[1]/polygon[1]",
        ),
        (
            "30.1,120.1 30.2,120.1 30.2,120.2 30.1,120.1",
            "30.1,120.1 30.2,120.1 30.1,120.1",
            "alert/info[1]/area[1]/polygon[1]",
        ),
        (
            "30.1,120.1 30.2,120.1 30.2,120.2 30.1,120.1",
            "30.1,120.1 30.2,120.1 30.3,120.1 30.1,120.1",
            "alert/info[1]/area[1]/polygon[1]",
        ),
        (
            "30.1,120.1 30.2,120.1 30.2,120.2 30.1,120.1",
            "95.1,120.1 30.2,120.1 30.2,120.2 95.1,120.1",
            "alert/info[1]/area[1]/polygon[1]",
        ),
        (
            "<polygon>30.1,120.1 30.2,120.1 30.2,120.2 30.1,120.1</polygon>",
            "<circle>30.1,120.1</circle>",
            "alert/info[1]/area[1]/circle[1]",
        ),
        (
            "<certainty>Likely</certainty>",
            "<certainty>Likely</certainty><expires>2026-07-21T18:00Z</expires>",
            "alert/info[1]/expires",
        ),
    ];
    for (from, to, element) in cases {
        let document = MINIMAL.replace(from, to);
        let validation = cap::validate(document.as_bytes());
        assert!(!validation.is_valid(), "{to} passed");
        assert!(
            validation.problems.iter().any(|p| p.element == element),
            "{to}: {:#?}",
            validation.problems
        );
    }
}

#[test]
fn schema_problems_are_all_reported_with_lines() {
    let document = MINIMAL
        .replace("<status>Actual</status>", "<status>Real</status>")
        .replace("<urgency>Expected</urgency>", "<urgency>Soon</urgency>");
    let validation = cap::validate(document.as_bytes());
    assert!(validation.problems.len() >= 2, "{:#?}", validation.problems);
    assert!(
        validation
            .problems
            .iter()
            .all(|p| p.element.starts_with("line ")),
        "{:#?}",
        validation.problems
    );
    assert!(
        validation.problems[0].message.contains("status"),
        "{:#?}",
        validation.problems
    );

    for (document, expected) in [
        ("", "empty"),
        (
            "<alert xmlns=\"http://www.incident.com/cap/1.0\"><identifier>x</identifier></alert>",
            "CAP 1.0",
        ),
        ("<alert><identifier>x</identifier></alert>", "no namespace"),
        ("<feed xmlns=\"http://www.w3.org/2005/Atom\"/>", "not a CAP"),
        (
            "<alert xmlns=\"urn:oasis:names:tc:emergency:cap:1.2\"><identifier>x",
            "not well-formed",
        ),
    ] {
        let problems = cap::validate(document.as_bytes()).problems;
        assert!(
            problems.iter().any(|p| p.message.contains(expected)),
            "{document}: {problems:#?}"
        );
    }
}
