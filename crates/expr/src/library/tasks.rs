//! `Task`, `Task<T>` and `ValueTask`: what the async members of the library return
//! (`reader.ReadAsync()`, `sw.WriteAsync(s)`, `doc.SaveAsync(w, o, ct)` …).
//!
//! Expressions cannot `await`, and nothing here runs concurrently: an async member does its
//! work at once and returns a task that is already complete — successfully, with its result,
//! or faulted, with the exception the work raised (what .NET's async methods store in the task
//! rather than throw). The task then answers as a completed .NET task does:
//! - `Result` / `Wait()`: the result; a faulted task throws `AggregateException` ("One or more
//!   errors occurred. (message)", .NET Core's message) wrapping the original;
//! - `GetAwaiter().GetResult()` (and `ConfigureAwait(false).GetAwaiter().GetResult()`): the
//!   result, or the original exception itself, as `await` would;
//! - `IsCompleted` (always true), `IsCompletedSuccessfully`, `IsFaulted`, `IsCanceled`,
//!   `Status` (`RanToCompletion` / `Faulted`), `Exception` (null or the AggregateException).
//!
//! Budget errors (steps, time, memory) are not faults of the work: they end the evaluation
//! as they would have without the task.

use super::*;
use crate::error::RuntimeError;
use crate::io::{IoObject, IoState};

/// Which of the task-like types a value is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TaskForm {
    /// `Task` (no result) or `Task<T>`.
    Task,
    /// `ValueTask` or `ValueTask<T>`.
    ValueTask,
    /// `TaskAwaiter[<T>]`, from `GetAwaiter()`.
    Awaiter,
    /// `ConfiguredTaskAwaitable[<T>]`, from `ConfigureAwait(bool)`.
    Configured,
}

/// A completed task: its outcome, whether it has a result type (`Task<T>`), and its form.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct TaskState {
    pub(crate) outcome: Result<Value, RuntimeError>,
    pub(crate) generic: bool,
    pub(crate) form: TaskForm,
}

impl TaskState {
    pub(crate) fn type_name(&self) -> &'static str {
        match (self.form, self.generic) {
            (TaskForm::Task, false) => "System.Threading.Tasks.Task",
            (TaskForm::Task, true) => "System.Threading.Tasks.Task`1",
            (TaskForm::ValueTask, false) => "System.Threading.Tasks.ValueTask",
            (TaskForm::ValueTask, true) => "System.Threading.Tasks.ValueTask`1",
            (TaskForm::Awaiter, false) => "System.Runtime.CompilerServices.TaskAwaiter",
            (TaskForm::Awaiter, true) => "System.Runtime.CompilerServices.TaskAwaiter`1",
            (TaskForm::Configured, false) => {
                "System.Runtime.CompilerServices.ConfiguredTaskAwaitable"
            }
            (TaskForm::Configured, true) => {
                "System.Runtime.CompilerServices.ConfiguredTaskAwaitable`1"
            }
        }
    }

    /// The bytes the result holds, for the memory budget.
    pub(crate) fn size(&self) -> usize {
        match &self.outcome {
            Ok(v) => budget::size_upto(v, usize::MAX),
            Err(e) => e.message.len(),
        }
    }

    fn with_form(&self, form: TaskForm) -> Value {
        Value::Object(Object::Io(IoObject::new(IoState::Task(TaskState {
            form,
            ..self.clone()
        }))))
    }
}

fn task_value(outcome: Result<Value, RuntimeError>, generic: bool, form: TaskForm) -> Value {
    Value::Object(Object::Io(IoObject::new(IoState::Task(TaskState {
        outcome,
        generic,
        form,
    }))))
}

/// A `Task<T>` completed with `v`.
pub(crate) fn task_of(v: Value) -> Value {
    task_value(Ok(v), true, TaskForm::Task)
}

/// A completed `Task` (no result): `Task.CompletedTask`.
pub(crate) fn task_done() -> Value {
    task_value(Ok(Value::Null), false, TaskForm::Task)
}

/// A completed `ValueTask` (no result), what `DisposeAsync()` returns.
pub(crate) fn value_task_done() -> Value {
    task_value(Ok(Value::Null), false, TaskForm::ValueTask)
}

/// The task of work done at once: completed with its result, or faulted with the exception
/// it raised, as an `async` method's task is. Budget errors and control flow pass through.
pub(crate) fn task_from(work: F<Value>, generic: bool) -> F<Value> {
    match work {
        Ok(v) => Ok(task_value(Ok(v), generic, TaskForm::Task)),
        Err(Flow::Err(e)) if e.budget.is_none() => Ok(task_value(Err(e), generic, TaskForm::Task)),
        Err(other) => Err(other),
    }
}

/// .NET Core's `AggregateException` message for one inner exception.
fn aggregate_message(e: &RuntimeError) -> String {
    format!("One or more errors occurred. ({})", e.message)
}

/// The error `Result`/`Wait()` throw for a faulted task.
fn aggregate(e: &RuntimeError, at: usize) -> Flow {
    rt("AggregateException", aggregate_message(e), at)
}

/// The outcome as `await` sees it: the result, or the original exception.
fn awaited(t: &TaskState, at: usize) -> F<Value> {
    match &t.outcome {
        Ok(v) => Ok(v.clone()),
        Err(e) => Err(Flow::Err(RuntimeError {
            offset: at,
            ..e.clone()
        })),
    }
}

fn no_task_member(t: &TaskState, name: &str, at: usize) -> Flow {
    no_definition(t.type_name(), name, at)
}

/// Properties of a task, awaiter or awaitable; `None` for a name it does not have.
pub(crate) fn task_member(t: &TaskState, name: &str, at: usize) -> Option<F<Value>> {
    let ok = t.outcome.is_ok();
    Some(Ok(match (t.form, name) {
        (_, "IsCompleted") if t.form != TaskForm::Configured => Value::Bool(true),
        (TaskForm::Task | TaskForm::ValueTask, "IsCompletedSuccessfully") => Value::Bool(ok),
        (TaskForm::Task | TaskForm::ValueTask, "IsFaulted") => Value::Bool(!ok),
        (TaskForm::Task | TaskForm::ValueTask, "IsCanceled") => Value::Bool(false),
        (TaskForm::Task | TaskForm::ValueTask, "Result") if t.generic => {
            return Some(match &t.outcome {
                Ok(v) => Ok(v.clone()),
                // ValueTask<T>.Result rethrows the original, as awaiting does.
                Err(_) if t.form == TaskForm::ValueTask => awaited(t, at),
                Err(e) => Err(aggregate(e, at)),
            });
        }
        (TaskForm::Task, "Status") => {
            enum_member("TaskStatus", if ok { "RanToCompletion" } else { "Faulted" })
                .unwrap_or_else(|| Value::str(if ok { "RanToCompletion" } else { "Faulted" }))
        }
        (TaskForm::Task, "Exception") => match &t.outcome {
            Ok(_) => Value::Null,
            Err(e) => Value::Object(Object::Exception(Arc::new(crate::exceptions::Exception {
                kind: "AggregateException",
                message: aggregate_message(e),
                param: None,
                inner: Some(Box::new(crate::exceptions::Exception::from_error(e))),
                data: Default::default(),
            }))),
        },
        (TaskForm::Task, "AsyncState") => Value::Null,
        _ => return None,
    }))
}

/// Methods of a task, awaiter or awaitable.
pub(crate) fn task_call(t: &TaskState, name: &str, args: &Args, at: usize) -> F<Value> {
    Ok(match (t.form, name, args.as_slice()) {
        (TaskForm::Task, "Wait", []) => match &t.outcome {
            Ok(_) => Value::Null,
            Err(e) => return Err(aggregate(e, at)),
        },
        // `Wait(timeout)`: completed within any timeout.
        (TaskForm::Task, "Wait", [_]) => match &t.outcome {
            Ok(_) => Value::Bool(true),
            Err(e) => return Err(aggregate(e, at)),
        },
        (TaskForm::Task | TaskForm::ValueTask | TaskForm::Configured, "GetAwaiter", []) => {
            t.with_form(TaskForm::Awaiter)
        }
        (TaskForm::Task | TaskForm::ValueTask, "ConfigureAwait", [(_, v)]) => match v {
            Value::Bool(_) => t.with_form(TaskForm::Configured),
            other => return Err(cast_err(other, "System.Boolean", at)),
        },
        (TaskForm::Awaiter, "GetResult", []) => {
            let v = awaited(t, at)?;
            if t.generic { v } else { Value::Null }
        }
        (TaskForm::ValueTask, "AsTask", []) => t.with_form(TaskForm::Task),
        (TaskForm::Task, "Dispose", []) => Value::Null,
        (_, "ToString", []) => Value::str(t.type_name()),
        _ => return Err(no_task_member(t, name, at)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn faulted_task_keeps_the_error_and_budget_errors_pass() {
        let e = RuntimeError {
            message: "bad".into(),
            kind: "XmlException",
            offset: 0,
            budget: None,
        };
        let Ok(Value::Object(Object::Io(io))) = task_from(Err(Flow::Err(e.clone())), true) else {
            panic!("a task");
        };
        let IoState::Task(t) = &*io.state() else {
            panic!("a task")
        };
        assert!(matches!(
            task_member(t, "Result", 3),
            Some(Err(Flow::Err(RuntimeError {
                kind: "AggregateException",
                ..
            })))
        ));
        let awaiter = TaskState {
            form: TaskForm::Awaiter,
            ..t.clone()
        };
        assert!(matches!(
            task_call(&awaiter, "GetResult", &Vec::new(), 3),
            Err(Flow::Err(RuntimeError {
                kind: "XmlException",
                offset: 3,
                ..
            }))
        ));
        let over = RuntimeError {
            budget: Some(crate::limits::Budget::Steps),
            ..e
        };
        assert!(task_from(Err(Flow::Err(over)), true).is_err());
    }
}
