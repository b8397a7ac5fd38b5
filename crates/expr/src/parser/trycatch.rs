//! `try`/`catch`/`finally` statements and deconstruction targets (`var (a, b)`), the C# 7
//! statement forms beside the classic ones in statements.rs.

use super::*;

impl Parser {
    /// `a, b, _)` of `var (a, b, _)`; the `var (` is consumed.
    pub(super) fn deconstruction_names(&mut self) -> R<Vec<String>> {
        let mut names = vec![self.ident()?];
        while self.eat(",") {
            names.push(self.ident()?);
        }
        self.expect(")")?;
        if names.len() < 2 {
            return Err(ExprError::new(
                self.at(),
                "deconstruction needs at least two names",
            ));
        }
        Ok(names)
    }

    /// `try { … } catch (T e) when (c) { … } … finally { … }`; the cursor is on `try`. Kept out
    /// of `statement_inner` for the same stack reason as [`Self::switch_statement`].
    pub(super) fn try_statement(&mut self) -> R<S> {
        self.pos += 2;
        self.features.insert("try");
        let body = self.statements_until_brace()?;
        let mut catches = Vec::new();
        while self.is_ident("catch") {
            self.pos += 1;
            let (mut ty, mut name) = (None, None);
            if self.eat("(") {
                let tat = self.at();
                let t = self.try_type().ok_or_else(|| {
                    ExprError::new(
                        tat,
                        format!("expected a type but found {}", self.describe()),
                    )
                })?;
                self.note(&t.name.clone());
                ty = Some(t);
                if let Tok::Ident(_) = self.peek() {
                    name = Some(self.ident()?);
                }
                self.expect(")")?;
            }
            let filter = if self.is_ident("when") {
                self.pos += 1;
                self.expect("(")?;
                let f = self.expr()?;
                self.expect(")")?;
                Some(f)
            } else {
                None
            };
            self.expect("{")?;
            let body = self.statements_until_brace()?;
            catches.push(Catch {
                ty,
                name,
                filter,
                body,
            });
        }
        let finally = if self.is_ident("finally") {
            self.pos += 1;
            self.expect("{")?;
            Some(self.statements_until_brace()?)
        } else {
            None
        };
        if catches.is_empty() && finally.is_none() {
            return Err(ExprError::new(
                self.at(),
                "expected 'catch' or 'finally' after the try block",
            ));
        }
        Ok(S::Try {
            body,
            catches,
            finally,
        })
    }
}
