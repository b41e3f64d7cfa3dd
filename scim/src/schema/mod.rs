//! Attribute characteristics and schema definitions (RFC 7643 §2, §7).
//!
//! [`AttributeDef`] carries the characteristics of RFC 7643 §2.2 and §7; [`SchemaDef`] is
//! one schema (core or extension). The built-in User, Group and EnterpriseUser schemas of
//! RFC 7643 §8.7.1 live in [`builtin`]; the per-directory [`SchemaRegistry`] in [`registry`].

pub mod builtin;
pub mod registry;
pub mod resolver;

pub use registry::{ResourceTypeDef, SchemaRegistry};
pub use resolver::ResourceSchema;

use serde_json::{Map, Value, json};

/// An attribute's data type (RFC 7643 §2.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AttrType {
    /// `string`
    String,
    /// `boolean`
    Boolean,
    /// `decimal`
    Decimal,
    /// `integer`
    Integer,
    /// `dateTime` (xsd:dateTime)
    DateTime,
    /// `reference`
    Reference,
    /// `binary` (base64)
    Binary,
    /// `complex`
    Complex,
}

impl AttrType {
    /// The keyword used in the schema representation.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::String => "string",
            Self::Boolean => "boolean",
            Self::Decimal => "decimal",
            Self::Integer => "integer",
            Self::DateTime => "dateTime",
            Self::Reference => "reference",
            Self::Binary => "binary",
            Self::Complex => "complex",
        }
    }

    /// Parses the schema keyword (exact case, as RFC 7643 §7 spells it).
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "string" => Self::String,
            "boolean" => Self::Boolean,
            "decimal" => Self::Decimal,
            "integer" => Self::Integer,
            "dateTime" => Self::DateTime,
            "reference" => Self::Reference,
            "binary" => Self::Binary,
            "complex" => Self::Complex,
            _ => return None,
        })
    }
}

/// Mutability (RFC 7643 §7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Mutability {
    /// `readOnly`
    ReadOnly,
    /// `readWrite`
    ReadWrite,
    /// `immutable`
    Immutable,
    /// `writeOnly`
    WriteOnly,
}

impl Mutability {
    /// The keyword used in the schema representation.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ReadOnly => "readOnly",
            Self::ReadWrite => "readWrite",
            Self::Immutable => "immutable",
            Self::WriteOnly => "writeOnly",
        }
    }

    /// Parses the schema keyword.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "readOnly" => Self::ReadOnly,
            "readWrite" => Self::ReadWrite,
            "immutable" => Self::Immutable,
            "writeOnly" => Self::WriteOnly,
            _ => return None,
        })
    }
}

/// When an attribute is returned (RFC 7643 §7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Returned {
    /// `always`
    Always,
    /// `never`
    Never,
    /// `default`
    Default,
    /// `request`
    Request,
}

impl Returned {
    /// The keyword used in the schema representation.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Always => "always",
            Self::Never => "never",
            Self::Default => "default",
            Self::Request => "request",
        }
    }

    /// Parses the schema keyword.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "always" => Self::Always,
            "never" => Self::Never,
            "default" => Self::Default,
            "request" => Self::Request,
            _ => return None,
        })
    }
}

/// Uniqueness (RFC 7643 §7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Uniqueness {
    /// `none`
    None,
    /// `server`
    Server,
    /// `global`
    Global,
}

impl Uniqueness {
    /// The keyword used in the schema representation.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Server => "server",
            Self::Global => "global",
        }
    }

    /// Parses the schema keyword.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "none" => Self::None,
            "server" => Self::Server,
            "global" => Self::Global,
            _ => return None,
        })
    }
}

/// One attribute or sub-attribute definition (RFC 7643 §7 "attributes").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttributeDef {
    pub(crate) name: String,
    pub(crate) ty: AttrType,
    pub(crate) multi_valued: bool,
    pub(crate) description: String,
    pub(crate) required: bool,
    pub(crate) case_exact: bool,
    pub(crate) mutability: Mutability,
    pub(crate) returned: Returned,
    pub(crate) uniqueness: Uniqueness,
    pub(crate) canonical_values: Vec<String>,
    pub(crate) reference_types: Vec<String>,
    pub(crate) sub_attributes: Vec<AttributeDef>,
}

impl AttributeDef {
    /// A single-valued, optional, case-insensitive, readWrite, default-returned attribute
    /// with no uniqueness: the defaults of RFC 7643 §2.2.
    pub fn new(name: &str, ty: AttrType) -> Self {
        Self {
            name: name.to_owned(),
            ty,
            multi_valued: false,
            description: String::new(),
            required: false,
            case_exact: false,
            mutability: Mutability::ReadWrite,
            returned: Returned::Default,
            uniqueness: Uniqueness::None,
            canonical_values: Vec::new(),
            reference_types: Vec::new(),
            sub_attributes: Vec::new(),
        }
    }

    /// The canonical name.
    pub fn name(&self) -> &str {
        &self.name
    }
    /// The data type.
    pub fn ty(&self) -> AttrType {
        self.ty
    }
    /// Whether the attribute is multi-valued.
    pub fn multi_valued(&self) -> bool {
        self.multi_valued
    }
    /// The description.
    pub fn description(&self) -> &str {
        &self.description
    }
    /// Whether the attribute is required.
    pub fn required(&self) -> bool {
        self.required
    }
    /// Whether string values compare case-sensitively.
    pub fn case_exact(&self) -> bool {
        self.case_exact
    }
    /// The mutability.
    pub fn mutability(&self) -> Mutability {
        self.mutability
    }
    /// When the attribute is returned.
    pub fn returned(&self) -> Returned {
        self.returned
    }
    /// The uniqueness.
    pub fn uniqueness(&self) -> Uniqueness {
        self.uniqueness
    }
    /// The canonical values, if any.
    pub fn canonical_values(&self) -> &[String] {
        &self.canonical_values
    }
    /// The reference types of a `reference` attribute.
    pub fn reference_types(&self) -> &[String] {
        &self.reference_types
    }
    /// The sub-attributes of a `complex` attribute.
    pub fn sub_attributes(&self) -> &[AttributeDef] {
        &self.sub_attributes
    }
    /// The sub-attribute named `name`, ignoring case.
    pub fn sub_attribute(&self, name: &str) -> Option<&AttributeDef> {
        self.sub_attributes.iter().find(|a| a.name.eq_ignore_ascii_case(name))
    }

    pub(crate) fn multi(mut self) -> Self {
        self.multi_valued = true;
        self
    }
    pub(crate) fn required_(mut self) -> Self {
        self.required = true;
        self
    }
    pub(crate) fn exact(mut self) -> Self {
        self.case_exact = true;
        self
    }
    pub(crate) fn mutability_(mut self, m: Mutability) -> Self {
        self.mutability = m;
        self
    }
    pub(crate) fn returned_(mut self, r: Returned) -> Self {
        self.returned = r;
        self
    }
    pub(crate) fn unique(mut self, u: Uniqueness) -> Self {
        self.uniqueness = u;
        self
    }
    pub(crate) fn canonical(mut self, values: &[&str]) -> Self {
        self.canonical_values = values.iter().map(|v| (*v).to_owned()).collect();
        self
    }
    pub(crate) fn refs(mut self, types: &[&str]) -> Self {
        self.reference_types = types.iter().map(|v| (*v).to_owned()).collect();
        self
    }
    pub(crate) fn subs(mut self, subs: Vec<AttributeDef>) -> Self {
        self.sub_attributes = subs;
        self
    }

    /// The RFC 7643 §7 JSON representation.
    pub fn to_json(&self) -> Value {
        let mut m = Map::new();
        m.insert("name".into(), json!(self.name));
        m.insert("type".into(), json!(self.ty.as_str()));
        if !self.sub_attributes.is_empty() {
            m.insert("subAttributes".into(), Value::Array(self.sub_attributes.iter().map(Self::to_json).collect()));
        }
        m.insert("multiValued".into(), json!(self.multi_valued));
        m.insert("description".into(), json!(self.description));
        m.insert("required".into(), json!(self.required));
        if !self.canonical_values.is_empty() {
            m.insert("canonicalValues".into(), json!(self.canonical_values));
        }
        if self.ty != AttrType::Complex {
            m.insert("caseExact".into(), json!(self.case_exact));
        }
        m.insert("mutability".into(), json!(self.mutability.as_str()));
        m.insert("returned".into(), json!(self.returned.as_str()));
        if self.ty != AttrType::Complex && self.ty != AttrType::Boolean {
            m.insert("uniqueness".into(), json!(self.uniqueness.as_str()));
        }
        if !self.reference_types.is_empty() {
            m.insert("referenceTypes".into(), json!(self.reference_types));
        }
        Value::Object(m)
    }
}

/// One schema: its URN id, name, description and attributes (RFC 7643 §7).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemaDef {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) description: String,
    pub(crate) attributes: Vec<AttributeDef>,
}

impl SchemaDef {
    /// The schema URN.
    pub fn id(&self) -> &str {
        &self.id
    }
    /// The human-readable name.
    pub fn name(&self) -> &str {
        &self.name
    }
    /// The description.
    pub fn description(&self) -> &str {
        &self.description
    }
    /// The top-level attributes.
    pub fn attributes(&self) -> &[AttributeDef] {
        &self.attributes
    }
    /// The top-level attribute named `name`, ignoring case.
    pub fn attribute(&self, name: &str) -> Option<&AttributeDef> {
        self.attributes.iter().find(|a| a.name.eq_ignore_ascii_case(name))
    }

    /// The `/Schemas` representation (RFC 7643 §7, §8.7), with `meta` at `location`.
    pub fn to_json(&self, location: &str) -> Value {
        json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Schema"],
            "id": self.id,
            "name": self.name,
            "description": self.description,
            "attributes": self.attributes.iter().map(AttributeDef::to_json).collect::<Vec<_>>(),
            "meta": { "resourceType": "Schema", "location": location },
        })
    }
}
