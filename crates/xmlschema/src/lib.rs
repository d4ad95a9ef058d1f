//! XML Schema (XSD 1.0) validation by the system's libxml2.
//!
//! Written by hand because no well-kept crate does it: the `libxml` crate's build needs
//! bindgen and libclang (not on a plain server), and the pure-Rust `xmlschema` attempts are
//! 0.0.x and do not cover the patterns and `xs:any` the CAP schema uses. libxml2 is what
//! `xmllint --schema` runs, so a document this crate passes is one the world's reference
//! validator passes. The surface is small: compile a schema once, validate documents with it.
//!
//! Documents carrying a document type declaration are refused before libxml2 sees them, and
//! libxml2 is told never to reach the network, so external entities and entity expansion
//! cannot be used against the validator.

use std::ffi::{CStr, c_char, c_int, c_void};
use std::sync::Once;

/// One problem libxml2 found, with the line it found it on (0 when it gave none).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Line in the document, counting from 1; 0 when unknown.
    pub line: u32,
    /// libxml2's own words, trimmed.
    pub message: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.line > 0 {
            write!(f, "line {}: {}", self.line, self.message)
        } else {
            f.write_str(&self.message)
        }
    }
}

/// A compiled XML schema, ready to validate documents from any thread.
pub struct Schema {
    schema: *mut c_void,
}

// SAFETY: a compiled xmlSchema is only read after xmlSchemaParse returns; libxml2 documents
// that one schema may be shared by validation contexts on several threads, and each call of
// `validate` makes its own context.
unsafe impl Send for Schema {}
// SAFETY: as above; nothing mutates the schema after it is compiled.
unsafe impl Sync for Schema {}

/// Largest document `validate` accepts (bytes); libxml2 itself refuses nodes over 10 MB.
pub const MAX_DOCUMENT_BYTES: usize = 16 * 1024 * 1024;

impl Schema {
    /// Compiles a schema from its text. The schema must stand alone, as the CAP schema
    /// does: one that includes, imports or redefines another (`schemaLocation`) is refused,
    /// since libxml2 would fetch it from a file or the network.
    pub fn compile(xsd: &[u8]) -> Result<Schema, Vec<Problem>> {
        init();
        refuse_doctype(xsd)?;
        if xsd.windows(14).any(|w| w == b"schemaLocation") {
            return Err(vec![problem(
                "the schema refers to another schema (schemaLocation); only schemas that stand alone are compiled",
            )]);
        }
        let len = c_int::try_from(xsd.len()).map_err(|_| vec![too_large()])?;
        let mut problems: Vec<Problem> = Vec::new();
        // SAFETY: `xsd` outlives the parser context, which libxml2 only reads from; the
        // error sink points at `problems`, which outlives the context (freed below).
        let schema = unsafe {
            let ctxt = xmlSchemaNewMemParserCtxt(xsd.as_ptr().cast(), len);
            if ctxt.is_null() {
                return Err(vec![problem("libxml2 could not make a schema parser")]);
            }
            xmlSchemaSetParserStructuredErrors(ctxt, collect, sink(&mut problems));
            let schema = xmlSchemaParse(ctxt);
            xmlSchemaFreeParserCtxt(ctxt);
            schema
        };
        if schema.is_null() {
            if problems.is_empty() {
                problems.push(problem("the schema did not compile"));
            }
            return Err(problems);
        }
        Ok(Schema { schema })
    }

    /// Validates one document. `Ok` means libxml2 found it well-formed and valid; otherwise
    /// every problem it reported, in document order.
    pub fn validate(&self, document: &[u8]) -> Result<(), Vec<Problem>> {
        refuse_doctype(document)?;
        if document.len() > MAX_DOCUMENT_BYTES {
            return Err(vec![too_large()]);
        }
        let len = c_int::try_from(document.len()).map_err(|_| vec![too_large()])?;
        let mut problems: Vec<Problem> = Vec::new();
        // SAFETY: `document` outlives the parse; the document tree and the validation
        // context are freed before returning, and the error sink points at `problems`,
        // which outlives both. The schema is alive as long as `self`.
        let outcome = unsafe {
            let doc = xmlReadMemory(
                document.as_ptr().cast(),
                len,
                c"document.xml".as_ptr(),
                std::ptr::null(),
                PARSE_OPTIONS,
            );
            if doc.is_null() {
                let last = xmlGetLastError();
                problems.push(if last.is_null() {
                    problem("the document is not well-formed XML")
                } else {
                    from_error(&*last)
                });
                return Err(problems);
            }
            if !xmlGetIntSubset(doc).is_null() {
                xmlFreeDoc(doc);
                return Err(vec![doctype_problem()]);
            }
            let ctxt = xmlSchemaNewValidCtxt(self.schema);
            if ctxt.is_null() {
                xmlFreeDoc(doc);
                return Err(vec![problem("libxml2 could not make a validation context")]);
            }
            xmlSchemaSetValidStructuredErrors(ctxt, collect, sink(&mut problems));
            let outcome = xmlSchemaValidateDoc(ctxt, doc);
            xmlSchemaFreeValidCtxt(ctxt);
            xmlFreeDoc(doc);
            outcome
        };
        match outcome {
            0 => Ok(()),
            _ => {
                if problems.is_empty() {
                    problems.push(problem("the document is not valid against the schema"));
                }
                Err(problems)
            }
        }
    }
}

impl Drop for Schema {
    fn drop(&mut self) {
        // SAFETY: `schema` came from xmlSchemaParse, is non-null, and is freed only here.
        unsafe { xmlSchemaFree(self.schema) }
    }
}

/// XML_PARSE_NOERROR | XML_PARSE_NOWARNING | XML_PARSE_NONET: no printing to stderr, and
/// no network access. Entities are not substituted (no XML_PARSE_NOENT) and no DTD is loaded.
const PARSE_OPTIONS: c_int = 32 | 64 | 2048;

fn init() {
    static INIT: Once = Once::new();
    // SAFETY: xmlInitParser is documented as safe to call once before any use from threads.
    INIT.call_once(|| unsafe { xmlInitParser() });
}

/// Refuses a document type declaration in the prolog (before the first element), before
/// libxml2 parses anything: a DTD is how external entities and entity expansion ("billion
/// laughs") get in. Text that merely quotes one later (in CDATA, say) is not refused. A
/// declaration this byte scan cannot see (a UTF-16 document) is refused after parsing,
/// which substitutes no entities and loads no DTD.
fn refuse_doctype(document: &[u8]) -> Result<(), Vec<Problem>> {
    let mut rest = document;
    while let Some(at) = rest.iter().position(|b| *b == b'<') {
        rest = &rest[at..];
        if rest.len() >= 9 && rest[..9].eq_ignore_ascii_case(b"<!DOCTYPE") {
            return Err(vec![doctype_problem()]);
        }
        match rest.get(1) {
            // A declaration, processing instruction or comment: skip past its end.
            Some(b'?') | Some(b'!') => {
                let end: &[u8] = if rest.starts_with(b"<!--") {
                    b"-->"
                } else {
                    b">"
                };
                match rest.windows(end.len()).position(|w| w == end) {
                    Some(close) => rest = &rest[close + end.len()..],
                    None => return Ok(()),
                }
            }
            // The first element: the prolog is over.
            _ => return Ok(()),
        }
    }
    Ok(())
}

fn doctype_problem() -> Problem {
    problem(
        "the document has a document type declaration (<!DOCTYPE>); it is refused, since DTDs carry external entities and entity expansion",
    )
}

fn too_large() -> Problem {
    problem(&format!(
        "the document is larger than {MAX_DOCUMENT_BYTES} bytes"
    ))
}

fn problem(message: &str) -> Problem {
    Problem {
        line: 0,
        message: message.to_owned(),
    }
}

fn sink(problems: &mut Vec<Problem>) -> *mut c_void {
    std::ptr::from_mut(problems).cast()
}

fn from_error(error: &XmlError) -> Problem {
    let message = if error.message.is_null() {
        String::from("unknown error")
    } else {
        // SAFETY: libxml2 gives a NUL-terminated message that lives for the callback.
        unsafe { CStr::from_ptr(error.message) }
            .to_string_lossy()
            .trim()
            .to_owned()
    };
    Problem {
        line: u32::try_from(error.line).unwrap_or(0),
        message,
    }
}

/// libxml2's structured error callback: appends the error to the `Vec<Problem>` behind
/// `user_data`. It does nothing that can unwind.
extern "C" fn collect(user_data: *mut c_void, error: *const XmlError) {
    if user_data.is_null() || error.is_null() {
        return;
    }
    // SAFETY: `user_data` is the `&mut Vec<Problem>` passed by `sink` for this context, alive
    // for the whole call that raised the error; `error` is valid for the callback's duration.
    unsafe {
        let problems = &mut *user_data.cast::<Vec<Problem>>();
        problems.push(from_error(&*error));
    }
}

/// `struct _xmlError` of libxml2 (xmlerror.h), laid out as in C.
#[repr(C)]
struct XmlError {
    domain: c_int,
    code: c_int,
    message: *const c_char,
    level: c_int,
    file: *const c_char,
    line: c_int,
    str1: *const c_char,
    str2: *const c_char,
    str3: *const c_char,
    int1: c_int,
    int2: c_int,
    ctxt: *mut c_void,
    node: *mut c_void,
}

type StructuredErrorFunc = extern "C" fn(*mut c_void, *const XmlError);

#[link(name = "xml2")]
unsafe extern "C" {
    fn xmlInitParser();
    fn xmlSchemaNewMemParserCtxt(buffer: *const c_char, size: c_int) -> *mut c_void;
    fn xmlSchemaSetParserStructuredErrors(
        ctxt: *mut c_void,
        serror: StructuredErrorFunc,
        ctx: *mut c_void,
    );
    fn xmlSchemaParse(ctxt: *mut c_void) -> *mut c_void;
    fn xmlSchemaFreeParserCtxt(ctxt: *mut c_void);
    fn xmlSchemaFree(schema: *mut c_void);
    fn xmlSchemaNewValidCtxt(schema: *mut c_void) -> *mut c_void;
    fn xmlSchemaSetValidStructuredErrors(
        ctxt: *mut c_void,
        serror: StructuredErrorFunc,
        ctx: *mut c_void,
    );
    fn xmlSchemaValidateDoc(ctxt: *mut c_void, doc: *mut c_void) -> c_int;
    fn xmlSchemaFreeValidCtxt(ctxt: *mut c_void);
    fn xmlReadMemory(
        buffer: *const c_char,
        size: c_int,
        url: *const c_char,
        encoding: *const c_char,
        options: c_int,
    ) -> *mut c_void;
    fn xmlFreeDoc(doc: *mut c_void);
    fn xmlGetIntSubset(doc: *const c_void) -> *mut c_void;
    fn xmlGetLastError() -> *const XmlError;
}
