//! The checked form of a step tree: a flat table of [`PlanNode`]s addressed by [`StepId`],
//! each with its path. Building it is where every [`DefinitionError`] is found.

use std::sync::Arc;
use std::time::Duration;

use super::error::DefinitionError;
use super::leaf::{Leaf, Need, Params};
use super::mapper::Mapper;
use super::step::{Body, Group, GroupKind, Missing, ParPolicy, Step, Visibility};

/// The index of a step in a [`Plan`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct StepId(u32);

impl StepId {
    fn index(self) -> usize {
        self.0 as usize
    }
}

/// What a planned step does.
pub(crate) enum What {
    Leaf(Leaf),
    Seq {
        members: Vec<StepId>,
        visibility: Option<Visibility>,
    },
    Par {
        members: Vec<StepId>,
        visibility: Option<Visibility>,
        policy: ParPolicy,
    },
    Dispatch {
        argument: String,
        cases: Vec<(String, StepId)>,
    },
}

/// One step of a plan.
pub(crate) struct PlanNode {
    pub(crate) path: Arc<str>,
    pub(crate) timeout: Option<Duration>,
    pub(crate) missing: Missing,
    pub(crate) mapper: Mapper,
    pub(crate) what: What,
    /// The output names, when known before running.
    pub(crate) declared: Option<Vec<String>>,
    /// Outputs the step certainly produces (all of `declared` when that is known; for a par
    /// of partly known members, the known part).
    pub(crate) certain: Vec<String>,
    /// For a function step returning positional values: their final keys, when known.
    pub(crate) value_keys: Option<Arc<[Arc<str>]>>,
}

/// A checked pipeline: every step, and the root.
pub(crate) struct Plan {
    nodes: Vec<PlanNode>,
    root: StepId,
}

/// An argument a step needs from outside, and what happens when it is absent.
pub(crate) type ArgNeed = (String, Need);

impl Plan {
    /// Checks `root` and lays it out.
    pub(crate) fn build(root: &Step) -> Result<Plan, DefinitionError> {
        let mut plan = Plan {
            nodes: Vec::new(),
            root: StepId(0),
        };
        plan.root = plan.add(root, root.name.clone(), Visibility::None)?;
        Ok(plan)
    }

    pub(crate) fn root(&self) -> StepId {
        self.root
    }

    pub(crate) fn node(&self, id: StepId) -> &PlanNode {
        &self.nodes[id.index()]
    }

    fn push(&mut self, node: PlanNode) -> StepId {
        let id = StepId(u32::try_from(self.nodes.len()).expect("fewer than 2^32 steps"));
        self.nodes.push(node);
        id
    }

    fn add(&mut self, step: &Step, path: String, inherited: Visibility) -> Result<StepId, DefinitionError> {
        let (what, inner) = match &step.body {
            Body::Leaf(leaf) => self.leaf(step, leaf, &path)?,
            Body::Group(group) => self.group(step, group, &path, inherited)?,
            Body::Dispatch(d) => {
                if step.missing == Missing::Skip {
                    return Err(DefinitionError::SkipOnGroup { step: path });
                }
                if d.cases.is_empty() {
                    return Err(DefinitionError::EmptyDispatch { step: path });
                }
                let mut cases = Vec::with_capacity(d.cases.len());
                for (i, (key, case)) in d.cases.iter().enumerate() {
                    if d.cases[..i].iter().any(|(k, _)| k == key) {
                        return Err(DefinitionError::DuplicateKey {
                            step: path,
                            key: key.clone(),
                        });
                    }
                    let id = self.add(case, format!("{path}/{key}"), inherited)?;
                    cases.push((key.clone(), id));
                }
                let ids: Vec<StepId> = cases.iter().map(|(_, id)| *id).collect();
                let declared = self.union_declared(&ids);
                let what = What::Dispatch {
                    argument: d.argument.clone(),
                    cases,
                };
                (what, declared)
            }
        };
        check_output_renames(&path, &step.mapper, inner.as_deref())?;
        let value_keys = match &step.body {
            Body::Leaf(leaf) => step.mapper.value_keys(leaf.outputs.as_deref()),
            _ => None,
        };
        let declared = match step.missing {
            Missing::Skip => None,
            Missing::Fail => step.mapper.declared(inner.as_deref()),
        };
        let certain = match (&declared, step.mapper.returned()) {
            (Some(names), _) => names.clone(),
            (None, None) if step.missing == Missing::Fail => self.certain_inside(&what, &step.mapper),
            (None, _) => Vec::new(),
        };
        Ok(self.push(PlanNode {
            path: Arc::from(path),
            timeout: step.timeout,
            missing: step.missing,
            mapper: step.mapper.clone(),
            what,
            declared,
            certain,
            value_keys,
        }))
    }

    /// A function step: its kind must not stream, and its mapper must fit its parameters and
    /// results. Returns the names of its positional values, if known.
    fn leaf(&self, step: &Step, leaf: &Leaf, path: &str) -> Result<(What, Option<Vec<String>>), DefinitionError> {
        if let Some((kind, port)) = leaf.streaming_port() {
            return Err(DefinitionError::Streaming {
                step: path.to_string(),
                kind,
                port,
            });
        }
        if let Params::Closed(params) = &leaf.params {
            for (param, _) in step.mapper.input_renames() {
                if !params.iter().any(|p| &p.name == param) {
                    return Err(DefinitionError::UnknownInput {
                        step: path.to_string(),
                        input: param.clone(),
                        params: params.iter().map(|p| p.name.clone()).collect(),
                    });
                }
            }
        }
        if let (Some(given), Some(outs)) = (step.mapper.returned(), &leaf.outputs) {
            if outs.len() > 1 && given.len() != outs.len() {
                return Err(DefinitionError::ReturnCount {
                    step: path.to_string(),
                    given: given.len(),
                    expected: outs.len(),
                });
            }
        }
        Ok((What::Leaf(leaf.clone()), leaf.outputs.clone()))
    }

    fn group(
        &mut self,
        step: &Step,
        group: &Group,
        path: &str,
        inherited: Visibility,
    ) -> Result<(What, Option<Vec<String>>), DefinitionError> {
        if step.missing == Missing::Skip {
            return Err(DefinitionError::SkipOnGroup { step: path.to_string() });
        }
        if group.members.is_empty() {
            return Err(DefinitionError::EmptyGroup {
                step: path.to_string(),
                group: group.kind.word(),
            });
        }
        let vis = group.visibility.unwrap_or(inherited);
        let members = self.members(group, path, vis)?;
        Ok(match group.kind {
            GroupKind::Seq => {
                if vis == Visibility::None {
                    self.check_chain(&members)?;
                }
                let last = self.node(*members.last().expect("a checked group has members"));
                let declared = last.declared.clone();
                let what = What::Seq {
                    members,
                    visibility: group.visibility,
                };
                (what, declared)
            }
            GroupKind::Par => {
                let declared = self.union_declared(&members);
                let what = What::Par {
                    members,
                    visibility: group.visibility,
                    policy: group.policy,
                };
                (what, declared)
            }
        })
    }

    fn members(&mut self, group: &Group, path: &str, vis: Visibility) -> Result<Vec<StepId>, DefinitionError> {
        let mut ids = Vec::with_capacity(group.members.len());
        for (i, member) in group.members.iter().enumerate() {
            let twin = group
                .members
                .iter()
                .enumerate()
                .any(|(j, m)| j != i && m.name == member.name);
            let name = if twin {
                format!("{}#{i}", member.name)
            } else {
                member.name.clone()
            };
            ids.push(self.add(member, format!("{path}/{name}"), vis)?);
        }
        Ok(ids)
    }

    /// What a group certainly produces when its full output list is unknown: the last step's
    /// for a seq, every member's for a par, what every case produces for a dispatch (renamed
    /// by the group's mapper).
    fn certain_inside(&self, what: &What, mapper: &Mapper) -> Vec<String> {
        let names: Vec<String> = match what {
            What::Leaf(_) => Vec::new(),
            What::Seq { members, .. } => self
                .node(*members.last().expect("a checked seq has members"))
                .certain
                .clone(),
            What::Par { members, .. } => {
                let mut all: Vec<String> = Vec::new();
                for id in members {
                    all.extend(
                        self.node(*id)
                            .certain
                            .iter()
                            .filter(|n| !all.contains(n))
                            .cloned()
                            .collect::<Vec<_>>(),
                    );
                }
                all
            }
            What::Dispatch { cases, .. } => {
                let mut common = self.node(cases[0].1).certain.clone();
                for (_, id) in &cases[1..] {
                    common.retain(|n| self.node(*id).certain.contains(n));
                }
                common
            }
        };
        mapper.declared(Some(&names)).unwrap_or_default()
    }

    fn union_declared(&self, members: &[StepId]) -> Option<Vec<String>> {
        let mut all: Vec<String> = Vec::new();
        for id in members {
            for name in self.node(*id).declared.as_ref()? {
                if !all.contains(name) {
                    all.push(name.clone());
                }
            }
        }
        Some(all)
    }

    /// Under visibility `None`, every required argument of a step must be among what the step
    /// before it declares (when that is known).
    fn check_chain(&self, members: &[StepId]) -> Result<(), DefinitionError> {
        for pair in members.windows(2) {
            let (prev, next) = (self.node(pair[0]), self.node(pair[1]));
            let Some(produces) = &prev.declared else { continue };
            for (argument, need) in self.needs(pair[1]) {
                if need == Need::Required && !produces.contains(&argument) {
                    return Err(DefinitionError::NotProduced {
                        step: next.path.to_string(),
                        argument,
                        previous: prev.path.to_string(),
                        produces: produces.clone(),
                    });
                }
            }
        }
        Ok(())
    }

    /// The arguments step `id` needs from its input, with defaults (required ones have none);
    /// a skippable step needs nothing.
    pub(crate) fn needs(&self, id: StepId) -> Vec<ArgNeed> {
        let node = self.node(id);
        if node.missing == Missing::Skip {
            return Vec::new();
        }
        let mut needs = match &node.what {
            What::Leaf(leaf) => leaf_needs(leaf, &node.mapper),
            What::Seq { members, .. } => self.needs(members[0]),
            What::Par { members, .. } => self.union_needs(members.iter().copied()),
            What::Dispatch { argument, cases } => {
                let mut n = vec![(argument.clone(), Need::Required)];
                merge_needs(&mut n, self.union_needs(cases.iter().map(|(_, id)| *id)));
                n
            }
        };
        if !matches!(node.what, What::Leaf(_)) {
            for (param, from) in node.mapper.input_renames() {
                for need in &mut needs {
                    if &need.0 == param {
                        need.0 = from.clone();
                    }
                }
            }
        }
        needs
    }

    fn union_needs(&self, ids: impl Iterator<Item = StepId>) -> Vec<ArgNeed> {
        let mut all = Vec::new();
        for id in ids {
            merge_needs(&mut all, self.needs(id));
        }
        all
    }

    /// What the whole pipeline needs from its caller: the root's needs, and under a root
    /// seq with visibility `Initial`/`All`, every step's needs not produced before it (by the
    /// step just before, or under `All` by any step before; outputs known only at run time
    /// count as not produced).
    pub(crate) fn entry_needs(&self) -> Vec<ArgNeed> {
        let root = self.node(self.root);
        let (members, vis) = match &root.what {
            What::Seq {
                members,
                visibility: Some(vis @ (Visibility::Initial | Visibility::All)),
            } => (members, *vis),
            _ => return self.needs(self.root),
        };
        let mut all = Vec::new();
        let mut produced: Vec<String> = Vec::new();
        for id in members {
            let fresh = self
                .needs(*id)
                .into_iter()
                .filter(|(n, _)| !produced.contains(n))
                .collect();
            merge_needs(&mut all, fresh);
            if vis == Visibility::Initial {
                produced.clear();
            }
            produced.extend(self.node(*id).certain.iter().cloned());
        }
        all
    }
}

fn leaf_needs(leaf: &Leaf, mapper: &Mapper) -> Vec<ArgNeed> {
    let Params::Closed(params) = &leaf.params else {
        return Vec::new();
    };
    params
        .iter()
        .map(|p| (mapper.source(&p.name).to_string(), p.need.clone()))
        .collect()
}

fn merge_needs(into: &mut Vec<ArgNeed>, more: Vec<ArgNeed>) {
    for need in more {
        if !into.iter().any(|(n, _)| *n == need.0) {
            into.push(need);
        }
    }
}

fn check_output_renames(path: &str, mapper: &Mapper, inner: Option<&[String]>) -> Result<(), DefinitionError> {
    let outputs: Vec<String> = match (mapper.returned(), inner) {
        (Some(names), _) => names.to_vec(),
        (None, Some(names)) => names.to_vec(),
        (None, None) => return Ok(()),
    };
    for (from, _) in mapper.output_renames() {
        if !outputs.contains(from) {
            return Err(DefinitionError::UnknownOutput {
                step: path.to_string(),
                output: from.clone(),
                outputs,
            });
        }
    }
    Ok(())
}
