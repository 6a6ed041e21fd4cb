"""Resolves the few CloudFormation intrinsics used by resources that moto's CloudFormation skips."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

AttributeLookup = Callable[[str, str], str]
_SUB_VARIABLE = re.compile(r"\$\{([^}!]+)\}")


class IntrinsicResolver:
    """Ref / Fn::GetAtt / Fn::Sub / Fn::Join / Fn::If against a deployed stack."""

    def __init__(
        self,
        parameters: Mapping[str, str],
        physical_ids: Mapping[str, str],
        conditions: Mapping[str, bool],
        get_attribute: AttributeLookup,
    ) -> None:
        self._parameters = parameters
        self._physical_ids = physical_ids
        self._conditions = conditions
        self._get_attribute = get_attribute

    def resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            return [self.resolve(v) for v in value]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((name, arg),) = value.items()
            if name == "Ref":
                return self._ref(arg)
            if name == "Fn::GetAtt":
                logical_id, attribute = arg if isinstance(arg, list) else arg.split(".", 1)
                return self._get_attribute(logical_id, attribute)
            if name == "Fn::Sub":
                return self._sub(arg)
            if name == "Fn::Join":
                separator, parts = arg
                return separator.join(str(self.resolve(p)) for p in parts)
            if name == "Fn::If":
                condition, if_true, if_false = arg
                return self.resolve(if_true if self._conditions[condition] else if_false)
        return {k: self.resolve(v) for k, v in value.items()}

    def _ref(self, name: str) -> str:
        if name in self._parameters:
            return self._parameters[name]
        pseudo = {"AWS::Region": "us-east-1", "AWS::AccountId": "123456789012", "AWS::Partition": "aws"}
        if name in pseudo:
            return pseudo[name]
        return self._physical_ids[name]

    def _sub(self, arg: str | list[Any]) -> str:
        text, variables = (arg, {}) if isinstance(arg, str) else (arg[0], arg[1])

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name in variables:
                return str(self.resolve(variables[name]))
            if "." in name:
                logical_id, attribute = name.split(".", 1)
                return self._get_attribute(logical_id, attribute)
            return self._ref(name)

        return _SUB_VARIABLE.sub(replace, text)
