//! Reading CAP documents: bytes in any declared encoding, CAP 1.2 as it is and CAP 1.1
//! upgraded, hostile XML refused (document type declarations, undeclared entities, huge or
//! deeply nested documents), the sender's XML signature kept aside verbatim.

use super::model::{
    Alert, Area, CAP_1_0, CAP_1_1, CAP_1_2, CapProblem, CapVersion, Category, Certainty, Info,
    MsgType, NamedValue, ReadAlert, Resource, ResponseType, Scope, Severity, Status, Urgency,
    XMLDSIG,
};
use quick_xml::escape::resolve_predefined_entity;
use quick_xml::events::Event;
use quick_xml::name::ResolveResult;
use quick_xml::reader::NsReader;
use std::collections::HashMap;
use std::rc::Rc;

/// Largest alert document read (bytes). The largest real alert in the test data (FEMA IPAWS,
/// with an inline image) is 459 KB.
pub const MAX_DOCUMENT_BYTES: usize = 4 * 1024 * 1024;
/// Deepest element nesting read; CAP itself nests four deep, a signature about seven.
pub const MAX_DEPTH: usize = 48;
/// Most elements read in one document (the largest test alert has a few hundred).
pub const MAX_ELEMENTS: usize = 50_000;
/// Most problems reported for one document; the rest are counted.
pub const MAX_PROBLEMS: usize = 200;

/// Reads one CAP document. Every problem found is returned, each with its element.
pub fn read(bytes: &[u8]) -> Result<ReadAlert, Vec<CapProblem>> {
    let (read, problems) = read_all(bytes)?;
    if problems.is_empty() {
        Ok(read)
    } else {
        Err(problems)
    }
}

/// Reads one CAP document as far as it can: `Err` when it is not a CAP document at all
/// (not XML, hostile, another root), otherwise the alert with what could not be read left
/// at a default, beside the problems found — so the rules can still be checked.
pub fn read_all(bytes: &[u8]) -> Result<(ReadAlert, Vec<CapProblem>), Vec<CapProblem>> {
    let (text, encoding) = decode(bytes).map_err(|p| vec![p])?;
    let root = parse_tree(&text).map_err(|p| vec![p])?;
    let version = version_of(&root).map_err(|p| vec![p])?;
    let mut reader = Mapper {
        version,
        cap_ns: match version {
            CapVersion::V1_1 => CAP_1_1,
            CapVersion::V1_2 => CAP_1_2,
        },
        problems: Vec::new(),
        notes: Vec::new(),
    };
    let (alert, signature) = reader.alert(&root, &text);
    Ok((
        ReadAlert {
            alert,
            version,
            encoding,
            signature,
            upgrade_notes: std::mem::take(&mut reader.notes),
            text,
        },
        reader.take_problems(),
    ))
}

/// The CAP version of a document, from its root element's namespace, without mapping it.
pub fn version_of_document(bytes: &[u8]) -> Result<CapVersion, CapProblem> {
    let (text, _) = decode(bytes)?;
    version_of(&parse_tree(&text)?)
}

fn version_of(root: &Node) -> Result<CapVersion, CapProblem> {
    if root.name != "alert" {
        return Err(CapProblem::at(
            &root.name,
            format!("the root element is <{}>, not a CAP <alert>", root.name),
        ));
    }
    match &*root.ns {
        CAP_1_2 => Ok(CapVersion::V1_2),
        CAP_1_1 => Ok(CapVersion::V1_1),
        CAP_1_0 => Err(CapProblem::at(
            "alert",
            "this is CAP 1.0, which is not accepted; send CAP 1.2 (or 1.1)",
        )),
        "" => Err(CapProblem::at(
            "alert",
            format!("<alert> has no namespace; CAP 1.2 is xmlns=\"{CAP_1_2}\""),
        )),
        other => Err(CapProblem::at(
            "alert",
            format!("<alert> is in namespace {other}, not CAP 1.2 ({CAP_1_2}) or 1.1"),
        )),
    }
}

/// Decodes the document to UTF-8 by its byte-order mark or its XML declaration's
/// `encoding` (UTF-8 when neither), refusing bytes that are not valid in that encoding.
fn decode(bytes: &[u8]) -> Result<(String, String), CapProblem> {
    if bytes.len() > MAX_DOCUMENT_BYTES {
        return Err(CapProblem::at(
            "document",
            format!(
                "the document is {} bytes; alerts of up to {MAX_DOCUMENT_BYTES} bytes are read",
                bytes.len()
            ),
        ));
    }
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(CapProblem::at("document", "the document is empty"));
    }
    let (encoding, body) = match encoding_rs::Encoding::for_bom(bytes) {
        Some((encoding, bom)) => (encoding, &bytes[bom..]),
        None => match declared_encoding(bytes) {
            Some(label) => match encoding_rs::Encoding::for_label(label.as_bytes()) {
                Some(encoding) => (encoding, bytes),
                None => {
                    return Err(CapProblem::at(
                        "document",
                        format!("the declared encoding \"{label}\" is not one this reader knows"),
                    ));
                }
            },
            None => (encoding_rs::UTF_8, bytes),
        },
    };
    match encoding.decode_without_bom_handling_and_without_replacement(body) {
        Some(text) => Ok((text.into_owned(), encoding.name().to_owned())),
        None => Err(CapProblem::at(
            "document",
            format!("the document is not valid {}", encoding.name()),
        )),
    }
}

/// The `encoding` of an XML declaration at the start of an ASCII-compatible document.
fn declared_encoding(bytes: &[u8]) -> Option<String> {
    let head = &bytes[..bytes.len().min(256)];
    let head = String::from_utf8_lossy(head);
    let declaration = head.strip_prefix("<?xml")?;
    let declaration = &declaration[..declaration.find("?>")?];
    let at = declaration.find("encoding")?;
    let rest = declaration[at + "encoding".len()..].trim_start();
    let rest = rest.strip_prefix('=')?.trim_start();
    let quote = rest.chars().next().filter(|c| *c == '"' || *c == '\'')?;
    let value = &rest[1..];
    Some(value[..value.find(quote)?].to_owned())
}

/// An element of the document: its namespace and name, its own text, its children, and
/// where it lies in the text (to keep a signature verbatim).
struct Node {
    /// Shared between the elements of one namespace: a long URI is held once.
    ns: Rc<str>,
    name: String,
    text: String,
    children: Vec<Node>,
    start: usize,
    end: usize,
}

/// Builds the element tree, refusing DTDs, undeclared entities and deep nesting. quick-xml
/// does no DTD processing and expands no entities itself, so nothing outside the document
/// is ever read.
fn parse_tree(text: &str) -> Result<Node, CapProblem> {
    let mut reader = NsReader::from_str(text);
    reader.config_mut().trim_text(false);
    let mut stack: Vec<Node> = Vec::new();
    let mut root: Option<Node> = None;
    let mut namespaces: HashMap<Vec<u8>, Rc<str>> = HashMap::new();
    let no_namespace: Rc<str> = Rc::from("");
    let mut elements = 0usize;
    let malformed = |reader: &NsReader<&[u8]>, error: &dyn std::fmt::Display| {
        let offset = usize::try_from(reader.buffer_position()).unwrap_or(usize::MAX);
        CapProblem::at(
            format!("line {}", line_of(text, offset)),
            format!("the document is not well-formed XML: {error}"),
        )
    };
    loop {
        let before = usize::try_from(reader.buffer_position()).unwrap_or(usize::MAX);
        let (ns, event) = match reader.read_resolved_event() {
            Ok((ResolveResult::Bound(ns), event)) => {
                let ns = namespaces
                    .entry(ns.as_ref().to_vec())
                    .or_insert_with(|| Rc::from(String::from_utf8_lossy(ns.as_ref()).as_ref()))
                    .clone();
                (ns, event)
            }
            Ok((_, event)) => (no_namespace.clone(), event),
            Err(error) => return Err(malformed(&reader, &error)),
        };
        match event {
            Event::Start(start) | Event::Empty(start) if root.is_some() => {
                let _ = start;
                return Err(CapProblem::at(
                    "document",
                    "the document is not well-formed XML: there is more than one root element",
                ));
            }
            Event::Start(ref start) | Event::Empty(ref start) => {
                elements += 1;
                if elements > MAX_ELEMENTS {
                    return Err(CapProblem::at(
                        "document",
                        format!("the document has more than {MAX_ELEMENTS} elements"),
                    ));
                }
                if stack.len() >= MAX_DEPTH {
                    return Err(CapProblem::at(
                        path_of(&stack),
                        format!("elements are nested more than {MAX_DEPTH} deep"),
                    ));
                }
                let name = String::from_utf8_lossy(start.local_name().as_ref()).into_owned();
                let node = Node {
                    ns,
                    name,
                    text: String::new(),
                    children: Vec::new(),
                    start: before,
                    end: before,
                };
                if matches!(event, Event::Empty(_)) {
                    let mut node = node;
                    node.end = usize::try_from(reader.buffer_position()).unwrap_or(before);
                    close(&mut stack, &mut root, node);
                } else {
                    stack.push(node);
                }
            }
            Event::End(_) => {
                if let Some(mut node) = stack.pop() {
                    node.end = usize::try_from(reader.buffer_position()).unwrap_or(before);
                    close(&mut stack, &mut root, node);
                }
            }
            Event::Text(content) => {
                let content = content
                    .xml_content()
                    .map_err(|error| malformed(&reader, &error))?;
                match stack.last_mut() {
                    Some(node) => node.text.push_str(&content),
                    None if content.trim().is_empty() => {}
                    None => {
                        return Err(CapProblem::at(
                            "document",
                            "the document is not well-formed XML: there is text outside the root element",
                        ));
                    }
                }
            }
            Event::CData(content) => {
                let content = content
                    .decode()
                    .map_err(|error| malformed(&reader, &error))?;
                if let Some(node) = stack.last_mut() {
                    node.text.push_str(&content);
                }
            }
            Event::GeneralRef(reference) => {
                let resolved = if reference.is_char_ref() {
                    reference
                        .resolve_char_ref()
                        .map_err(|error| malformed(&reader, &error))?
                        .map(String::from)
                } else {
                    let name = reference
                        .decode()
                        .map_err(|error| malformed(&reader, &error))?;
                    match resolve_predefined_entity(&name) {
                        Some(value) => Some(value.to_owned()),
                        None => {
                            return Err(CapProblem::at(
                                path_of(&stack),
                                format!(
                                    "the entity &{name}; is not defined; CAP uses only XML's five predefined entities"
                                ),
                            ));
                        }
                    }
                };
                if let (Some(node), Some(value)) = (stack.last_mut(), resolved) {
                    node.text.push_str(&value);
                }
            }
            Event::DocType(_) => {
                return Err(CapProblem::at(
                    "document",
                    "the document has a document type declaration (<!DOCTYPE>); CAP has none, and it is refused because DTDs carry external entities and entity expansion",
                ));
            }
            Event::Decl(_) | Event::PI(_) | Event::Comment(_) => {}
            Event::Eof => break,
        }
    }
    if !stack.is_empty() {
        return Err(CapProblem::at(
            path_of(&stack),
            "the document is not well-formed XML: it ends before this element is closed",
        ));
    }
    root.ok_or_else(|| {
        CapProblem::at(
            "document",
            "the document is not well-formed XML: it has no root element",
        )
    })
}

fn close(stack: &mut [Node], root: &mut Option<Node>, node: Node) {
    match stack.last_mut() {
        Some(parent) => parent.children.push(node),
        None => *root = Some(node),
    }
}

fn path_of(stack: &[Node]) -> String {
    let names: Vec<&str> = stack.iter().map(|n| n.name.as_str()).collect();
    if names.is_empty() {
        "document".to_owned()
    } else {
        names.join("/")
    }
}

fn line_of(text: &str, offset: usize) -> usize {
    let offset = offset.min(text.len());
    text.as_bytes()[..offset]
        .iter()
        .filter(|b| **b == b'\n')
        .count()
        + 1
}

/// Maps the element tree onto the model, collecting every problem.
struct Mapper {
    version: CapVersion,
    cap_ns: &'static str,
    problems: Vec<CapProblem>,
    notes: Vec<String>,
}

impl Mapper {
    fn problem(&mut self, element: &str, message: impl Into<String>) {
        self.problems.push(CapProblem::at(element, message));
    }

    /// The problems, at most `MAX_PROBLEMS` and a count of the rest.
    fn take_problems(&mut self) -> Vec<CapProblem> {
        let mut problems = std::mem::take(&mut self.problems);
        cap_problems(&mut problems);
        problems
    }

    /// The CAP children of `node`; elements of other namespaces are problems, except the
    /// signature at the end of an alert (handled by the caller).
    fn children<'n>(&mut self, node: &'n Node, path: &str) -> Vec<&'n Node> {
        let mut children = Vec::new();
        for child in &node.children {
            if &*child.ns == self.cap_ns {
                children.push(child);
            } else if !(node.name == "alert" && &*child.ns == XMLDSIG) {
                self.problem(
                    &format!("{path}/{}", child.name),
                    format!(
                        "<{}> (namespace \"{}\") is not part of CAP",
                        child.name, child.ns
                    ),
                );
            }
        }
        children
    }

    fn alert(&mut self, root: &Node, text: &str) -> (Alert, Option<String>) {
        let mut alert = Alert {
            identifier: String::new(),
            sender: String::new(),
            sent: String::new(),
            status: Status::Actual,
            msg_type: MsgType::Alert,
            source: None,
            scope: Scope::Public,
            restriction: None,
            addresses: None,
            code: Vec::new(),
            note: None,
            references: None,
            incidents: None,
            info: Vec::new(),
        };
        let mut seen = Seen::default();
        for child in self.children(root, "alert") {
            let path = format!("alert/{}", child.name);
            let value = child.text.trim().to_owned();
            match child.name.as_str() {
                "identifier" => alert.identifier = seen.one(self, &path, value),
                "sender" => alert.sender = seen.one(self, &path, value),
                "sent" => {
                    alert.sent = {
                        let v = seen.one(self, &path, value);
                        self.datetime(v, &path)
                    }
                }
                "status" => {
                    let value = seen.one(self, &path, value);
                    if let Some(v) = self.code(&path, &value, Status::parse, Status::choices) {
                        alert.status = v;
                    }
                }
                "msgType" => {
                    let value = seen.one(self, &path, value);
                    if let Some(v) = self.code(&path, &value, MsgType::parse, MsgType::choices) {
                        alert.msg_type = v;
                    }
                }
                "scope" => {
                    let value = seen.one(self, &path, value);
                    if let Some(v) = self.code(&path, &value, Scope::parse, Scope::choices) {
                        alert.scope = v;
                    }
                }
                "source" => alert.source = Some(seen.one(self, &path, child.text.clone())),
                "restriction" => {
                    alert.restriction = Some(seen.one(self, &path, child.text.clone()))
                }
                "addresses" => alert.addresses = Some(seen.one(self, &path, value)),
                "code" => alert.code.push(value),
                "note" => alert.note = Some(seen.one(self, &path, child.text.clone())),
                "references" => {
                    let value = seen.one(self, &path, value);
                    alert.references = Some(self.upgrade_references(value, &path));
                }
                "incidents" => alert.incidents = Some(seen.one(self, &path, value)),
                "info" => {
                    let path = format!("alert/info[{}]", alert.info.len() + 1);
                    let info = self.info(child, &path);
                    alert.info.push(info);
                }
                other => self.problem(&path, format!("<{other}> is not an element of <alert>")),
            }
        }
        for required in ["identifier", "sender", "sent", "status", "msgType", "scope"] {
            if !seen.names.iter().any(|n| n == required) {
                self.problem("alert", format!("<{required}> is missing"));
            }
        }
        let signatures: Vec<&str> = root
            .children
            .iter()
            .filter(|c| &*c.ns == XMLDSIG)
            .filter_map(|c| text.get(c.start..c.end))
            .collect();
        let signature = (!signatures.is_empty()).then(|| signatures.join("\n"));
        (alert, signature)
    }

    fn info(&mut self, node: &Node, path: &str) -> Info {
        let mut info = Info {
            language: None,
            category: Vec::new(),
            event: String::new(),
            response_type: Vec::new(),
            urgency: Urgency::Unknown,
            severity: Severity::Unknown,
            certainty: Certainty::Unknown,
            audience: None,
            event_code: Vec::new(),
            effective: None,
            onset: None,
            expires: None,
            sender_name: None,
            headline: None,
            description: None,
            instruction: None,
            web: None,
            contact: None,
            parameter: Vec::new(),
            resource: Vec::new(),
            area: Vec::new(),
        };
        let mut seen = Seen::default();
        let mut seen_category = false;
        for child in self.children(node, path) {
            let here = format!("{path}/{}", child.name);
            let value = child.text.trim().to_owned();
            let full = child.text.clone();
            match child.name.as_str() {
                "language" => info.language = Some(seen.one(self, &here, value)),
                "category" => {
                    seen_category = true;
                    if let Some(v) = self.code(&here, &value, Category::parse, Category::choices) {
                        info.category.push(v);
                    }
                }
                "event" => info.event = seen.one(self, &here, full),
                "responseType" => {
                    if let Some(v) =
                        self.code(&here, &value, ResponseType::parse, ResponseType::choices)
                    {
                        info.response_type.push(v);
                    }
                }
                "urgency" => {
                    let value = seen.one(self, &here, value);
                    if let Some(v) = self.code(&here, &value, Urgency::parse, Urgency::choices) {
                        info.urgency = v;
                    }
                }
                "severity" => {
                    let value = seen.one(self, &here, value);
                    if let Some(v) = self.code(&here, &value, Severity::parse, Severity::choices) {
                        info.severity = v;
                    }
                }
                "certainty" => {
                    let value = seen.one(self, &here, value);
                    let value = if self.version == CapVersion::V1_1 && value == "Very Likely" {
                        self.notes.push(format!(
                            "{here}: \"Very Likely\" (allowed by CAP 1.1 for 1.0's sake) became \"Likely\""
                        ));
                        "Likely".to_owned()
                    } else {
                        value
                    };
                    if let Some(v) = self.code(&here, &value, Certainty::parse, Certainty::choices)
                    {
                        info.certainty = v;
                    }
                }
                "audience" => info.audience = Some(seen.one(self, &here, full)),
                "eventCode" => info.event_code.push(self.named_value(child, &here)),
                "effective" => {
                    info.effective = Some({
                        let v = seen.one(self, &here, value);
                        self.datetime(v, &here)
                    })
                }
                "onset" => {
                    info.onset = Some({
                        let v = seen.one(self, &here, value);
                        self.datetime(v, &here)
                    })
                }
                "expires" => {
                    info.expires = Some({
                        let v = seen.one(self, &here, value);
                        self.datetime(v, &here)
                    })
                }
                "senderName" => info.sender_name = Some(seen.one(self, &here, full)),
                "headline" => info.headline = Some(seen.one(self, &here, full)),
                "description" => info.description = Some(seen.one(self, &here, full)),
                "instruction" => info.instruction = Some(seen.one(self, &here, full)),
                "web" => info.web = Some(seen.one(self, &here, value)),
                "contact" => info.contact = Some(seen.one(self, &here, full)),
                "parameter" => info.parameter.push(self.named_value(child, &here)),
                "resource" => {
                    let here = format!("{path}/resource[{}]", info.resource.len() + 1);
                    let resource = self.resource(child, &here);
                    info.resource.push(resource);
                }
                "area" => {
                    let here = format!("{path}/area[{}]", info.area.len() + 1);
                    let area = self.area(child, &here);
                    info.area.push(area);
                }
                other => self.problem(&here, format!("<{other}> is not an element of <info>")),
            }
        }
        for required in ["event", "urgency", "severity", "certainty"] {
            if !seen.names.iter().any(|n| n == required) {
                self.problem(path, format!("<{required}> is missing"));
            }
        }
        if !seen_category {
            self.problem(path, "<category> is missing (at least one is required)");
        }
        info
    }

    fn resource(&mut self, node: &Node, path: &str) -> Resource {
        let mut resource = Resource {
            resource_desc: String::new(),
            mime_type: String::new(),
            size: None,
            uri: None,
            deref_uri: None,
            digest: None,
        };
        let mut seen = Seen::default();
        for child in self.children(node, path) {
            let here = format!("{path}/{}", child.name);
            let value = child.text.trim().to_owned();
            match child.name.as_str() {
                "resourceDesc" => {
                    resource.resource_desc = seen.one(self, &here, child.text.clone())
                }
                "mimeType" => resource.mime_type = seen.one(self, &here, value),
                "size" => {
                    let value = seen.one(self, &here, value);
                    match value.parse::<u64>() {
                        Ok(size) => resource.size = Some(size),
                        Err(_) => self.problem(
                            &here,
                            format!("\"{value}\" is not a size in bytes (a whole number)"),
                        ),
                    }
                }
                "uri" => resource.uri = Some(seen.one(self, &here, value)),
                "derefUri" => resource.deref_uri = Some(seen.one(self, &here, value)),
                "digest" => resource.digest = Some(seen.one(self, &here, value)),
                other => self.problem(&here, format!("<{other}> is not an element of <resource>")),
            }
        }
        if !seen.names.iter().any(|n| n == "resourceDesc") {
            self.problem(path, "<resourceDesc> is missing");
        }
        if !seen.names.iter().any(|n| n == "mimeType") {
            if self.version == CapVersion::V1_1 {
                resource.mime_type = "application/octet-stream".to_owned();
                self.notes.push(format!(
                    "{path}: no <mimeType> (optional in CAP 1.1, required in 1.2); application/octet-stream was put in"
                ));
            } else {
                self.problem(path, "<mimeType> is missing");
            }
        }
        resource
    }

    fn area(&mut self, node: &Node, path: &str) -> Area {
        let mut area = Area {
            area_desc: String::new(),
            polygon: Vec::new(),
            circle: Vec::new(),
            geocode: Vec::new(),
            altitude: None,
            ceiling: None,
        };
        let mut seen = Seen::default();
        for child in self.children(node, path) {
            let here = format!("{path}/{}", child.name);
            let value = child.text.trim().to_owned();
            match child.name.as_str() {
                "areaDesc" => area.area_desc = seen.one(self, &here, child.text.clone()),
                "polygon" | "circle" if value.is_empty() && self.version == CapVersion::V1_1 => {
                    self.notes
                        .push(format!("{here}: an empty <{}> was left out", child.name));
                }
                "polygon" => area.polygon.push(value),
                "circle" => area.circle.push(value),
                "geocode" => area.geocode.push(self.named_value(child, &here)),
                "altitude" => area.altitude = Some(seen.one(self, &here, value)),
                "ceiling" => area.ceiling = Some(seen.one(self, &here, value)),
                other => self.problem(&here, format!("<{other}> is not an element of <area>")),
            }
        }
        if !seen.names.iter().any(|n| n == "areaDesc") {
            self.problem(path, "<areaDesc> is missing");
        }
        area
    }

    fn named_value(&mut self, node: &Node, path: &str) -> NamedValue {
        let mut pair = NamedValue {
            value_name: String::new(),
            value: String::new(),
        };
        let mut seen = Seen::default();
        for child in self.children(node, path) {
            let here = format!("{path}/{}", child.name);
            match child.name.as_str() {
                "valueName" => {
                    pair.value_name = seen.one(self, &here, child.text.trim().to_owned())
                }
                "value" => pair.value = seen.one(self, &here, child.text.trim().to_owned()),
                other => self.problem(
                    &here,
                    format!("<{other}> is not an element of <{}>", node.name),
                ),
            }
        }
        for required in ["valueName", "value"] {
            if !seen.names.iter().any(|n| n == required) {
                self.problem(path, format!("<{required}> is missing"));
            }
        }
        pair
    }

    fn code<T>(
        &mut self,
        path: &str,
        value: &str,
        parse: fn(&str) -> Option<T>,
        choices: fn() -> String,
    ) -> Option<T> {
        let parsed = parse(value);
        if parsed.is_none() {
            self.problem(
                path,
                format!(
                    "\"{value}\" is not one of the allowed values: {}",
                    choices()
                ),
            );
        }
        parsed
    }

    /// The times in CAP 1.1 references are upgraded like every other time.
    fn upgrade_references(&mut self, value: String, path: &str) -> String {
        if self.version != CapVersion::V1_1 {
            return value;
        }
        value
            .split_whitespace()
            .map(|reference| match reference.rsplit_once(',') {
                Some((head, sent)) => format!("{head},{}", self.datetime(sent.to_owned(), path)),
                None => reference.to_owned(),
            })
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// CAP 1.1 times are upgraded to 1.2's form: "Z" becomes "-00:00" (the standard's way of
    /// writing UTC) and fractional seconds are dropped. CAP 1.2 times are kept as written;
    /// the rules check their form.
    fn datetime(&mut self, value: String, path: &str) -> String {
        if self.version != CapVersion::V1_1 {
            return value;
        }
        let mut upgraded = value.clone();
        if let Some(base) = upgraded.strip_suffix('Z') {
            upgraded = format!("{base}-00:00");
        }
        if let Some(dot) = upgraded.find('.') {
            let digits = upgraded[dot + 1..]
                .find(|c: char| !c.is_ascii_digit())
                .map_or(upgraded.len(), |n| dot + 1 + n);
            upgraded.replace_range(dot..digits, "");
        }
        if upgraded != value {
            self.notes
                .push(format!("{path}: \"{value}\" written as \"{upgraded}\""));
        }
        upgraded
    }
}

/// Which single-valued elements an element has had, to report repeats.
#[derive(Default)]
struct Seen {
    names: Vec<String>,
}

impl Seen {
    fn one(&mut self, mapper: &mut Mapper, path: &str, value: String) -> String {
        let name = path.rsplit('/').next().unwrap_or(path).to_owned();
        if self.names.contains(&name) {
            mapper.problem(path, format!("<{name}> appears more than once"));
        } else {
            self.names.push(name);
        }
        value
    }
}

/// Keeps at most `MAX_PROBLEMS` problems, the last saying how many more there were.
pub fn cap_problems(problems: &mut Vec<CapProblem>) {
    if problems.len() > MAX_PROBLEMS {
        let more = problems.len() - (MAX_PROBLEMS - 1);
        problems.truncate(MAX_PROBLEMS - 1);
        problems.push(CapProblem::at(
            "document",
            format!("… and {more} more problems"),
        ));
    }
}
