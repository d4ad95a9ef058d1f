//! Writing CAP 1.2 XML, elements in the schema's order.
//!
//! A sender's XML signature is not written back: it signs the sender's bytes, and a
//! re-written alert is different bytes. The original document is kept for that.

use super::model::{Alert, Area, CAP_1_2, Info, NamedValue, Resource};
use quick_xml::escape::escape;

/// The alert as a CAP 1.2 document (UTF-8, two-space indentation).
pub fn write(alert: &Alert) -> String {
    let mut out = Xml::default();
    out.raw("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    out.raw(&format!("<alert xmlns=\"{CAP_1_2}\">\n"));
    out.depth = 1;
    out.element("identifier", &alert.identifier);
    out.element("sender", &alert.sender);
    out.element("sent", &alert.sent);
    out.element("status", alert.status.as_str());
    out.element("msgType", alert.msg_type.as_str());
    out.optional("source", alert.source.as_deref());
    out.element("scope", alert.scope.as_str());
    out.optional("restriction", alert.restriction.as_deref());
    out.optional("addresses", alert.addresses.as_deref());
    for code in &alert.code {
        out.element("code", code);
    }
    out.optional("note", alert.note.as_deref());
    out.optional("references", alert.references.as_deref());
    out.optional("incidents", alert.incidents.as_deref());
    for info in &alert.info {
        write_info(&mut out, info);
    }
    out.raw("</alert>\n");
    out.text
}

fn write_info(out: &mut Xml, info: &Info) {
    out.open("info");
    out.optional("language", info.language.as_deref());
    for category in &info.category {
        out.element("category", category.as_str());
    }
    out.element("event", &info.event);
    for response in &info.response_type {
        out.element("responseType", response.as_str());
    }
    out.element("urgency", info.urgency.as_str());
    out.element("severity", info.severity.as_str());
    out.element("certainty", info.certainty.as_str());
    out.optional("audience", info.audience.as_deref());
    for code in &info.event_code {
        out.pair("eventCode", code);
    }
    out.optional("effective", info.effective.as_deref());
    out.optional("onset", info.onset.as_deref());
    out.optional("expires", info.expires.as_deref());
    out.optional("senderName", info.sender_name.as_deref());
    out.optional("headline", info.headline.as_deref());
    out.optional("description", info.description.as_deref());
    out.optional("instruction", info.instruction.as_deref());
    out.optional("web", info.web.as_deref());
    out.optional("contact", info.contact.as_deref());
    for parameter in &info.parameter {
        out.pair("parameter", parameter);
    }
    for resource in &info.resource {
        write_resource(out, resource);
    }
    for area in &info.area {
        write_area(out, area);
    }
    out.close("info");
}

fn write_resource(out: &mut Xml, resource: &Resource) {
    out.open("resource");
    out.element("resourceDesc", &resource.resource_desc);
    out.element("mimeType", &resource.mime_type);
    if let Some(size) = resource.size {
        out.element("size", &size.to_string());
    }
    out.optional("uri", resource.uri.as_deref());
    out.optional("derefUri", resource.deref_uri.as_deref());
    out.optional("digest", resource.digest.as_deref());
    out.close("resource");
}

fn write_area(out: &mut Xml, area: &Area) {
    out.open("area");
    out.element("areaDesc", &area.area_desc);
    for polygon in &area.polygon {
        out.element("polygon", polygon);
    }
    for circle in &area.circle {
        out.element("circle", circle);
    }
    for geocode in &area.geocode {
        out.pair("geocode", geocode);
    }
    out.optional("altitude", area.altitude.as_deref());
    out.optional("ceiling", area.ceiling.as_deref());
    out.close("area");
}

/// A small indenting writer; text is escaped by quick-xml.
#[derive(Default)]
struct Xml {
    text: String,
    depth: usize,
}

impl Xml {
    fn raw(&mut self, s: &str) {
        self.text.push_str(s);
    }

    fn indent(&mut self) {
        for _ in 0..self.depth {
            self.text.push_str("  ");
        }
    }

    fn element(&mut self, name: &str, value: &str) {
        self.indent();
        self.text.push('<');
        self.text.push_str(name);
        self.text.push('>');
        // A carriage return is written as a reference: XML reads a raw one as a newline.
        self.text.push_str(&escape(value).replace('\r', "&#13;"));
        self.text.push_str("</");
        self.text.push_str(name);
        self.text.push_str(">\n");
    }

    fn optional(&mut self, name: &str, value: Option<&str>) {
        if let Some(value) = value {
            self.element(name, value);
        }
    }

    fn pair(&mut self, name: &str, pair: &NamedValue) {
        self.open(name);
        self.element("valueName", &pair.value_name);
        self.element("value", &pair.value);
        self.close(name);
    }

    fn open(&mut self, name: &str) {
        self.indent();
        self.text.push_str(&format!("<{name}>\n"));
        self.depth += 1;
    }

    fn close(&mut self, name: &str) {
        self.depth = self.depth.saturating_sub(1);
        self.indent();
        self.text.push_str(&format!("</{name}>\n"));
    }
}
