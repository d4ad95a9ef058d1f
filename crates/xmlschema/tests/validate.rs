//! The validator against a small schema: valid, invalid, not well-formed and hostile documents.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use xmlschema::Schema;

const XSD: &str = r#"<?xml version="1.0"?>
<schema xmlns="http://www.w3.org/2001/XMLSchema" targetNamespace="urn:test"
  xmlns:t="urn:test" elementFormDefault="qualified">
  <element name="note">
    <complexType><sequence>
      <element name="to" type="string"/>
      <element name="day"><simpleType><restriction base="string">
        <pattern value="\d\d\d\d-\d\d-\d\d"/></restriction></simpleType></element>
    </sequence></complexType>
  </element>
</schema>"#;

fn schema() -> Schema {
    Schema::compile(XSD.as_bytes()).unwrap()
}

#[test]
fn a_valid_document_passes() {
    let doc = r#"<note xmlns="urn:test"><to>Li Wei</to><day>2026-12-03</day></note>"#;
    assert_eq!(schema().validate(doc.as_bytes()), Ok(()));
}

#[test]
fn every_problem_is_reported_with_its_line() {
    let doc = "<note xmlns=\"urn:test\">\n<to>Li Wei</to>\n<day>3 Dec</day>\n</note>";
    let problems = schema().validate(doc.as_bytes()).unwrap_err();
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert_eq!(problems[0].line, 3);
    assert!(problems[0].message.contains("day"), "{problems:?}");

    let doc = "<note xmlns=\"urn:test\"><day>2026-12-03</day></note>";
    let problems = schema().validate(doc.as_bytes()).unwrap_err();
    assert!(problems[0].message.contains("to"), "{problems:?}");
}

#[test]
fn a_document_that_is_not_xml_is_refused() {
    let problems = schema()
        .validate(b"<note xmlns=\"urn:test\"><to>")
        .unwrap_err();
    assert_eq!(problems.len(), 1);
    assert!(!problems[0].message.is_empty());
}

#[test]
fn a_doctype_is_refused_before_parsing() {
    let doc = r#"<?xml version="1.0"?><!DOCTYPE note [<!ENTITY x SYSTEM "file:///etc/passwd">]>
<note xmlns="urn:test"><to>&x;</to><day>2026-12-03</day></note>"#;
    let problems = schema().validate(doc.as_bytes()).unwrap_err();
    assert!(problems[0].message.contains("DOCTYPE"), "{problems:?}");
}

#[test]
fn a_broken_schema_does_not_compile() {
    let problems =
        Schema::compile(b"<schema xmlns=\"http://www.w3.org/2001/XMLSchema\"><element/></schema>")
            .err()
            .unwrap();
    assert!(!problems.is_empty());
}

#[test]
fn one_schema_serves_many_threads() {
    let schema = std::sync::Arc::new(schema());
    let handles: Vec<_> = (0..4)
        .map(|i| {
            let schema = schema.clone();
            std::thread::spawn(move || {
                for _ in 0..200 {
                    let doc = format!(
                        "<note xmlns=\"urn:test\"><to>{i}</to><day>2026-12-0{i}</day></note>"
                    );
                    assert_eq!(schema.validate(doc.as_bytes()), Ok(()));
                }
            })
        })
        .collect();
    for handle in handles {
        handle.join().unwrap();
    }
}

#[test]
fn a_doctype_quoted_inside_the_document_is_only_text() {
    let doc = r#"<?xml version="1.0"?><!-- a <!DOCTYPE> in a comment -->
<note xmlns="urn:test"><to><![CDATA[<!DOCTYPE html><p>hi</p>]]></to><day>2026-12-03</day></note>"#;
    assert_eq!(schema().validate(doc.as_bytes()), Ok(()));
}

#[test]
fn a_doctype_in_utf16_is_refused_after_parsing() {
    let doc = "<?xml version=\"1.0\" encoding=\"UTF-16\"?><!DOCTYPE note [<!ENTITY x \"y\">]><note xmlns=\"urn:test\"><to>&x;</to><day>2026-12-03</day></note>";
    let mut bytes = vec![0xFF, 0xFE];
    for unit in doc.encode_utf16() {
        bytes.extend_from_slice(&unit.to_le_bytes());
    }
    let problems = schema().validate(&bytes).unwrap_err();
    assert!(problems[0].message.contains("DOCTYPE"), "{problems:?}");
}

#[test]
fn a_schema_that_fetches_another_is_refused() {
    let xsd = XSD.replace(
        "elementFormDefault=\"qualified\">",
        "elementFormDefault=\"qualified\"><include schemaLocation=\"http://example.org/x.xsd\"/>",
    );
    let problems = Schema::compile(xsd.as_bytes()).err().unwrap();
    assert!(
        problems[0].message.contains("schemaLocation"),
        "{problems:?}"
    );
}
