"""Print pip constraints that pin every declared floor of pyproject.toml exactly.

`.ci/run`'s lowest-versions leg installs the project with these constraints
(`PIP_CONSTRAINT=FILE pip install -e ".[backends,docs]"`, then the README's
test command), so the floors the package states (`>=`) are what it is
tested with: the build system's, the runtime dependencies' and every
extra's. An exact pin (`==`) is kept as it is. A requirement without a
floor is left to pip, which then installs the current release, as a user
gets. Anything else (an upper bound, `~=`, a marker) is refused, so that no
stated bound goes untested without notice.

Usage: python3 .ci/lowest_constraints.py [pyproject.toml] > constraints.txt
"""

import re
import sys
import tomllib

# `name`, optional `[extras]`, optional `>= version` or `== version`, nothing else.
_REQUIREMENT = re.compile(
    r"^\s*(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[[^\]]*\])?"
    r"\s*(?:(?:>=|==)\s*(?P<floor>[0-9][0-9A-Za-z.]*))?\s*$"
)


def lowest_constraints(pyproject):
    """`name==floor` lines for the floors of the build system, the dependencies and every extra."""
    project = pyproject["project"]
    requirements = [
        *pyproject.get("build-system", {}).get("requires", []),
        *project["dependencies"],
        *(
            requirement
            for extra in project.get("optional-dependencies", {}).values()
            for requirement in extra
        ),
    ]
    lines = {}
    for requirement in requirements:
        match = _REQUIREMENT.match(requirement)
        if match is None:
            raise SystemExit(
                f"lowest_constraints.py: {requirement!r} is not `name`, `name>=floor` or `name==version`; "
                "teach this script its lowest version before declaring it"
            )
        name, floor = match["name"].lower(), match["floor"]
        if floor is None:
            continue
        if lines.get(name, f"{name}=={floor}") != f"{name}=={floor}":
            raise SystemExit(f"lowest_constraints.py: {name} has two floors: {lines[name]}, {floor}")
        lines[name] = f"{name}=={floor}"
    return list(lines.values())


def main(argv):
    path = argv[1] if len(argv) > 1 else "pyproject.toml"
    with open(path, "rb") as file:
        print("\n".join(lowest_constraints(tomllib.load(file))))


if __name__ == "__main__":
    main(sys.argv)
