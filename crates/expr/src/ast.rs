//! Syntax tree of the C# subset. Every node keeps the byte offset it started at so that run-time
//! errors can name the place too.

use std::sync::Arc;

/// A type as written in a cast, `as`, `is`, `new`, a generic argument or a declaration. Names are
/// kept as written minus well-known namespaces (`System.`, `Newtonsoft.Json.Linq.` ...), so the
/// interpreter matches on `string`, `JObject`, `List` etc.
#[derive(Debug, Clone, PartialEq)]
pub struct TypeRef {
    pub name: String,
    pub args: Vec<TypeRef>,
    /// Number of `[]` suffixes.
    pub array: usize,
    pub nullable: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinOp {
    Add,
    Sub,
    Mul,
    Div,
    Rem,
    Eq,
    Ne,
    Lt,
    Gt,
    Le,
    Ge,
    BitAnd,
    BitOr,
    BitXor,
    Shl,
    Shr,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnOp {
    Neg,
    Plus,
    Not,
    BitNot,
}

/// One call argument; `name` is set for named arguments like `preserveContent: true`.
#[derive(Debug, Clone, PartialEq)]
pub struct Arg {
    pub name: Option<String>,
    pub value: Expr,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Part {
    Text(String),
    /// `{expr,align:format}`: the expression, its field width, its format string.
    Hole(Expr, Option<i64>, Option<String>),
}

/// Body of a lambda: `x => expr` or `x => { statements }`.
#[derive(Debug, Clone, PartialEq)]
pub enum LambdaBody {
    Expr(Expr),
    Block(Vec<Stmt>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct LambdaDef {
    pub params: Vec<String>,
    pub body: LambdaBody,
    /// Declared parameter types (local functions, typed lambdas); `None` where not written.
    pub param_types: Vec<Option<TypeRef>>,
    /// Declared return type of a local function (`int F(...)`); values are converted to it
    /// on return as C# does implicitly (`(short)` wrap-around is then observable).
    pub ret: Option<TypeRef>,
    /// Set for a local function: it may be called by name and takes exactly its parameters.
    pub local_fn: Option<String>,
}

/// One pattern of a `switch` (statement label or expression arm), the C# 9 subset: constants,
/// `_`/`default`, relational (`> 5`), `not`, `and`, `or`, and a type with an optional binding.
#[derive(Debug, Clone, PartialEq)]
pub enum Pat {
    Discard,
    Const(Expr),
    Rel(BinOp, Expr),
    Not(Box<Pat>),
    And(Box<Pat>, Box<Pat>),
    Or(Box<Pat>, Box<Pat>),
    Type(TypeRef, Option<String>),
    /// A property pattern `{ Length: > 0, Name: "a" } [binding]`: not null, and each member
    /// matches its pattern.
    Props(Vec<(String, Pat)>, Option<String>),
}

/// `pattern [when guard]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Case {
    pub pat: Pat,
    pub guard: Option<Expr>,
}

/// One section of a switch statement: its labels (`case` patterns; `None` is `default`) and
/// statements.
#[derive(Debug, Clone, PartialEq)]
pub struct SwitchSection {
    pub labels: Vec<Option<Case>>,
    pub body: Vec<Stmt>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Expr {
    pub kind: E,
    pub at: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub enum E {
    Null,
    Bool(bool),
    /// A numeric literal with its C# type.
    Num(crate::numeric::Num),
    /// `checked(x)` (true) or `unchecked(x)` (false).
    Checked(bool, Box<Expr>),
    Str(Arc<str>),
    Char(char),
    Interp(Vec<Part>),
    Name(String),
    /// `target.name` or `target?.name`.
    Member {
        target: Box<Expr>,
        name: String,
        null_cond: bool,
    },
    /// `callee(args)` where callee is a `Name` or `Member`, with optional generic arguments.
    Call {
        callee: Box<Expr>,
        generics: Vec<TypeRef>,
        args: Vec<Arg>,
    },
    Index {
        target: Box<Expr>,
        args: Vec<Expr>,
        null_cond: bool,
    },
    /// Marks the end of a chain that contains `?.`/`?[`: a null there makes the whole chain null.
    NullChain(Box<Expr>),
    Unary(UnOp, Box<Expr>),
    Binary(BinOp, Box<Expr>, Box<Expr>),
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Coalesce(Box<Expr>, Box<Expr>),
    Cond(Box<Expr>, Box<Expr>, Box<Expr>),
    Cast(TypeRef, Box<Expr>),
    As(Box<Expr>, TypeRef),
    Is(Box<Expr>, TypeRef, Option<String>),
    /// `is null` / `is not null` and other constant patterns.
    IsConst(Box<Expr>, Box<Expr>, bool),
    Lambda(Arc<LambdaDef>),
    New {
        ty: TypeRef,
        args: Vec<Arg>,
        init: Option<Vec<Expr>>,
    },
    NewArray {
        ty: Option<TypeRef>,
        size: Option<Box<Expr>>,
        items: Option<Vec<Expr>>,
    },
    NewAnon(Vec<(String, Expr)>),
    Assign {
        target: Box<Expr>,
        op: Option<BinOp>,
        value: Box<Expr>,
    },
    CoalesceAssign(Box<Expr>, Box<Expr>),
    IncDec {
        target: Box<Expr>,
        delta: i64,
        prefix: bool,
    },
    TypeOf(TypeRef),
    Default(Option<TypeRef>),
    /// An `out` argument: `out var n` / `out int n` (declare: a new local in the enclosing
    /// scope) or `out n` (an existing local). Only valid as a call argument.
    Out {
        name: String,
        declare: bool,
        ty: Option<TypeRef>,
    },
    /// `x switch { pattern => value, ... }`.
    Switch(Box<Expr>, Vec<(Case, Expr)>),
    /// A tuple literal `(1, "a")` / `(a: 1, b: 2)`.
    Tuple(Vec<(Option<String>, Expr)>),
    /// A throw expression (`x ?? throw new ArgumentException()`).
    Throw(Box<Expr>),
}

/// One `catch` clause: `catch (T name) when (filter) { … }`; a bare `catch { … }` has no type.
#[derive(Debug, Clone, PartialEq)]
pub struct Catch {
    pub ty: Option<TypeRef>,
    pub name: Option<String>,
    pub filter: Option<Expr>,
    pub body: Vec<Stmt>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Stmt {
    pub kind: S,
    pub at: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub enum S {
    Local {
        name: String,
        ty: Option<TypeRef>,
        init: Option<Expr>,
    },
    Expr(Expr),
    If(Expr, Box<Stmt>, Option<Box<Stmt>>),
    Return(Option<Expr>),
    Foreach {
        var: String,
        /// `foreach (var (k, v) in …)`: the names the element is deconstructed into (empty
        /// for a plain loop variable).
        parts: Vec<String>,
        iter: Expr,
        body: Box<Stmt>,
    },
    /// `var (a, b) = expr;`: deconstruction into new locals (`_` discards).
    Deconstruct(Vec<String>, Expr),
    While(Expr, Box<Stmt>),
    /// `do body while (cond);`: the body runs before the first test.
    DoWhile(Box<Stmt>, Expr),
    For {
        init: Vec<Stmt>,
        cond: Option<Expr>,
        step: Vec<Expr>,
        body: Box<Stmt>,
    },
    Block(Vec<Stmt>),
    /// `checked { … }` (true) or `unchecked { … }` (false).
    Checked(bool, Vec<Stmt>),
    /// Several statements in the enclosing scope (`int a = 1, b = 2;`).
    Seq(Vec<Stmt>),
    Break,
    Continue,
    Throw(Option<Expr>),
    Empty,
    /// A local function; it is in scope in its whole enclosing block (C# hoists it).
    LocalFn(Arc<LambdaDef>),
    Switch(Expr, Vec<SwitchSection>),
    /// `try { … } catch … finally { … }`.
    Try {
        body: Vec<Stmt>,
        catches: Vec<Catch>,
        finally: Option<Vec<Stmt>>,
    },
}
