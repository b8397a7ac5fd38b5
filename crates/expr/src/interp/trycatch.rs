//! `try`/`catch`/`finally` and `throw`. Every run-time error carries its .NET exception type
//! (`RuntimeError::kind`), so a `catch (FormatException)` handles `int.Parse("x")` as in C#.
//! An exhausted budget (`RuntimeError::budget` set) is never caught and skips `finally`: a
//! policy must not be able to swallow, or outlive, its time, step or memory budget.

use super::*;
use crate::exceptions::{Exception, is_a};

/// Whether a `catch` may see `e`. Not an exhausted budget, and not a `CompilationError`: that
/// is code C# rejects at compile time (an unknown name, a misplaced `out`), which APIM would
/// refuse to save, so no `catch` may turn it into a working policy here.
fn catchable(e: &RuntimeError) -> bool {
    e.budget.is_none() && e.kind != "CompilationError"
}

impl<'c> Interp<'c> {
    /// `throw e;`, and `throw;` inside a `catch`, which rethrows what that `catch` handles.
    pub(super) fn throw(&mut self, e: Option<&Expr>, at: usize) -> F<()> {
        let Some(e) = e else {
            return Err(Flow::Err(match self.caught.last() {
                Some(c) => c.clone(),
                None => RuntimeError {
                    message: "Exception of type 'System.Exception' was thrown.".into(),
                    kind: "Exception",
                    offset: at,
                    budget: None,
                },
            }));
        };
        match self.ev(e)? {
            Value::Object(Object::Exception(x)) => Err(Flow::Err(x.to_error(at))),
            // `throw null;` throws a NullReferenceException in .NET.
            Value::Null => Err(null_ref(at)),
            other => Err(rt("Exception", lib::exception_message(&other), at)),
        }
    }

    pub(super) fn try_catch(
        &mut self,
        body: &[Stmt],
        catches: &[Catch],
        finally: Option<&[Stmt]>,
    ) -> F<()> {
        let r = match self.scoped(body) {
            Err(Flow::Err(e)) if catchable(&e) => self.handle(e, catches),
            other => other,
        };
        if let Err(Flow::Err(e)) = &r
            && e.budget.is_some()
        {
            return r;
        }
        match finally {
            // A `finally` that itself throws or returns replaces the pending outcome, as in C#.
            Some(f) => self.scoped(f).and(r),
            None => r,
        }
    }

    /// Runs the first `catch` whose type and filter accept `e`; with none, `e` goes on.
    fn handle(&mut self, e: RuntimeError, catches: &[Catch]) -> F<()> {
        let mut value = None;
        for c in catches {
            if let Some(t) = &c.ty
                && !is_a(e.kind, &t.name)
            {
                continue;
            }
            let mark = self.locals.len();
            if let Some(name) = &c.name {
                let v = value
                    .get_or_insert_with(|| {
                        Value::Object(Object::Exception(Arc::new(Exception::from_error(&e))))
                    })
                    .clone();
                self.push_local(name.clone(), v, e.offset)?;
            }
            if let Some(f) = &c.filter {
                match self.cond(f) {
                    Ok(true) => {}
                    // A filter that throws counts as false (the CLR swallows it), but an
                    // exhausted budget still ends the evaluation.
                    Err(Flow::Err(fe)) if fe.budget.is_some() => {
                        self.truncate_locals(mark);
                        return Err(Flow::Err(fe));
                    }
                    Ok(false) | Err(_) => {
                        self.truncate_locals(mark);
                        continue;
                    }
                }
            }
            self.caught.push(e);
            let r = self.scoped(&c.body);
            self.caught.pop();
            self.truncate_locals(mark);
            return r;
        }
        Err(Flow::Err(e))
    }
}
