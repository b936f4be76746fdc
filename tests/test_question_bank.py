"""The offline question bank: right count, distinct, speakable, fitting role, stack and level."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections import Counter
from collections.abc import Iterable

import pytest

from flows.bank_data import (
    BEHAVIORAL,
    BEHAVIORAL_COMMON,
    DOMAINS,
    GENERAL,
    TECH_TEMPLATES,
    WARMUPS,
)
from flows.bank_tech import TECHS
from flows.question_bank import (
    LEVELS,
    InterviewSetup,
    bank_questions,
    default_seed,
    resolve_stack,
    role_domain,
)

DOMAIN = {domain.key: domain for domain in DOMAINS}
BEHAVIORAL_POOL = set(BEHAVIORAL_COMMON).union(*BEHAVIORAL.values())
# What a behavioral question must not contain: technology names and shop talk.
TECH_NAMES = [tech.name for tech in TECHS] + ["Jira", "Elixir"]
SHOP_TALK = ["code", "API", "database", "framework", "stack", "programming", "software"]


def bounded(term: str) -> str:
    return rf"(?<![\w+#.-]){re.escape(term)}(?![\w+#-])"


def mentions(question: str, term: str) -> bool:
    return re.search(bounded(term), question, re.I) is not None


def talks_tech(question: str) -> bool:
    """Names a technology (as capitalized, so "go about it" is not Go) or shop talk."""
    return any(re.search(bounded(name), question) for name in TECH_NAMES) or any(
        mentions(question, word) for word in SHOP_TALK
    )


def shape(question: str, names: Iterable[str]) -> str:
    for name in names:
        question = re.sub(bounded(name), "<tech>", question, flags=re.I)
    return question.casefold()


def warmups(role: str) -> set[str]:
    return {warmup.format(role=role) for warmup in WARMUPS}


def tier_pool(tier: str, names: Iterable[str], domain: str) -> set[str]:
    """Every question of one tier that a technical set for this domain and stack may use."""
    pool = set(DOMAIN[domain].tiers[tier]) | set(GENERAL[tier])
    for name in names:
        pool |= {template.format(tech=name) for template in TECH_TEMPLATES[tier]}
    for tech in TECHS:
        pool |= set(tech.tiers[tier])
    return pool


def assert_speakable(questions: list[str], amount: int, names: Iterable[str] = ()) -> None:
    assert len(questions) == amount
    assert len({q.casefold() for q in questions}) == amount, "questions repeat"
    for question in questions:
        assert question.endswith("?"), question
        assert len(question) < 250, question
        assert "\n" not in question and "`" not in question and "**" not in question
        assert "{" not in question and "}" not in question, question
        assert not re.match(r"\s*(\d+[.)]|[-*\u2022]|question\b)", question, re.I), question
    same_template = Counter(shape(q, names) for q in questions)
    assert max(same_template.values()) <= 2, same_template.most_common(1)


# (role, type, level, techstack, amount, expected domain, stack names as the bank names them)
CASES = [
    (
        "Senior Backend Engineer",
        "technical",
        "senior",
        ("Python", "Django", "PostgreSQL"),
        10,
        "backend",
        ("Python", "Django", "PostgreSQL"),
    ),
    (
        "Frontend Developer",
        "mixed",
        "junior",
        ("React", "TypeScript"),
        5,
        "frontend",
        ("React", "TypeScript"),
    ),
    ("Data Scientist", "behavioral", "intern", ("pandas",), 3, "data", ("pandas",)),
    (
        "DevOps Engineer",
        "technical",
        "mid",
        ("Kubernetes", "AWS", "Terraform"),
        30,
        "devops",
        ("Kubernetes", "AWS", "Terraform"),
    ),
    ("iOS Developer", "technical", "mid", ("Swift",), 8, "mobile", ("Swift",)),
    (
        "QA Automation Engineer",
        "technical",
        "junior",
        ("Selenium", "python"),
        6,
        "qa",
        ("Selenium", "Python"),
    ),
    ("Game Developer", "technical", "senior", ("C++", "Unity"), 7, "gamedev", ("C++", "Unity")),
    ("Security Engineer", "technical", "mid", (), 6, "security", ()),
    ("Product Manager", "behavioral", "senior", ("Jira", "SQL"), 6, "product", ("Jira", "SQL")),
    (
        "Software Engineer",
        "technical",
        "mid",
        ("Elixir, Phoenix",),
        12,
        "generic",
        ("Elixir", "Phoenix"),
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[f"{c[0]}-{c[1]}-{c[4]}" for c in CASES])
def test_sets_fit_role_type_level_and_stack(case: tuple) -> None:
    role, kind, level, stack, amount, domain, names = case
    setup = InterviewSetup(role, kind, level, stack, amount)
    questions = bank_questions(setup)
    assert_speakable(questions, amount, names)
    assert role_domain(role).key == domain
    assert tuple(item.name for item in resolve_stack(stack)) == names

    if kind == "behavioral":
        assert questions[0] in warmups(role)
        for question in questions[1:]:
            assert question in BEHAVIORAL_POOL, question
        for question in questions:
            assert not talks_tech(question), question
        return

    technical = questions if kind == "technical" else questions[1::2]
    on_stack = [q for q in technical if any(mentions(q, name) for name in names)]
    fits_role = set().union(*DOMAIN[domain].tiers.values(), *GENERAL.values())
    for question in technical:
        assert question in on_stack or question in fits_role, question
    if names:
        assert len(on_stack) * 2 >= len(technical), "most technical questions use the stack"
    if kind == "technical":
        assert all(any(mentions(q, name) for q in technical) for name in names)
    assert any(q in set().union(*DOMAIN[domain].tiers.values()) for q in technical)


def test_mixed_interleaves_from_a_warm_up() -> None:
    setup = InterviewSetup("Frontend Developer", "mixed", "junior", ("React", "TypeScript"), 5)
    q = bank_questions(setup)
    assert q[0] in warmups("Frontend Developer")
    assert q[2] in BEHAVIORAL_POOL and q[4] in BEHAVIORAL_POOL
    assert q[1] not in BEHAVIORAL_POOL and q[3] not in BEHAVIORAL_POOL
    assert mentions(q[1], "React") or mentions(q[3], "React") or mentions(q[1], "TypeScript")

    thirty = bank_questions(InterviewSetup("Backend Engineer", "mixed", "mid", ("Go",), 30))
    behavioral = [q for q in thirty if q in BEHAVIORAL_POOL or q in warmups("Backend Engineer")]
    assert len(behavioral) == 15
    assert thirty[1::2] == [q for q in thirty if q not in behavioral]


def test_levels_change_the_wording() -> None:
    def ask(level: str) -> list[str]:
        setup = InterviewSetup("Backend Engineer", "technical", level, ("Python", "Redis"), 8)
        return bank_questions(setup, seed=7)

    junior, senior = ask("junior"), ask("senior")
    assert len(set(junior) & set(senior)) == 0
    names = ("Python", "Redis")
    assert set(junior) <= tier_pool("basic", names, "backend")
    assert set(senior) <= tier_pool("senior", names, "backend")
    assert set(ask("mid")) <= tier_pool("mid", names, "backend")


def test_behavioral_levels_ask_about_learning_or_leading() -> None:
    def ask(level: str) -> list[str]:
        return bank_questions(InterviewSetup("Engineer", "behavioral", level, (), 10), seed=3)

    intern, senior = ask("intern"), ask("senior")
    assert not set(intern) & set(BEHAVIORAL["senior"])
    assert not set(senior) & set(BEHAVIORAL["basic"])
    assert len(set(intern) & set(BEHAVIORAL["basic"])) >= 5
    assert len(set(senior) & set(BEHAVIORAL["senior"])) >= 5
    leading = re.compile(r"\b(led|lead|leading|hiring|mentored|conflict|influenced|team)\b")
    assert sum(bool(leading.search(q)) for q in senior) > sum(
        bool(leading.search(q)) for q in intern
    )


def test_seed_makes_selection_reproducible() -> None:
    setup = InterviewSetup("Backend Engineer", "mixed", "mid", ("Python", "Kafka"), 12)
    assert bank_questions(setup, seed=11) == bank_questions(setup, seed=11)
    assert bank_questions(setup, seed=11) != bank_questions(setup, seed=12)
    assert bank_questions(setup) == bank_questions(setup, seed=default_seed(setup))
    other = InterviewSetup("Backend Engineer", "mixed", "mid", ("Python", "Kafka"), 13)
    assert default_seed(other) != default_seed(setup)


def test_default_seed_is_stable_across_processes() -> None:
    script = (
        "import json; from flows.question_bank import InterviewSetup, bank_questions; "
        "print(json.dumps(bank_questions(InterviewSetup('Data Engineer', 'mixed', 'senior', "
        "('Spark', 'SQL'), 9))))"
    )
    runs = []
    for hash_seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        result = subprocess.run(
            [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True
        )
        runs.append(json.loads(result.stdout))
    assert runs[0] == runs[1]


STACKS = [(), ("Elixir", "Phoenix", "Gleam"), ("Python", "Go", "Rust", "Kafka", "Redis"), ("R",)]
ROLES = [
    "Backend Engineer",
    "Frontend Developer",
    "Full Stack Developer",
    "Android Developer",
    "Machine Learning Engineer",
    "Site Reliability Engineer",
    "QA Engineer",
    "Security Analyst",
    "Embedded Engineer",
    "Game Programmer",
    "Product Owner",
    "",
    "Chef",
]


@pytest.mark.parametrize("kind", ["technical", "behavioral", "mixed"])
def test_thirty_questions_for_any_combination(kind: str) -> None:
    for role in ROLES:
        for level in LEVELS:
            for stack in STACKS:
                setup = InterviewSetup(role, kind, level, stack, 30)
                names = [item.name for item in resolve_stack(stack)]
                assert_speakable(bank_questions(setup), 30, names)


@pytest.mark.parametrize("kind", ["technical", "behavioral", "mixed"])
def test_a_single_question(kind: str) -> None:
    questions = bank_questions(InterviewSetup("Backend Engineer", kind, "mid", ("Go",), 1))
    assert_speakable(questions, 1)
    if kind == "technical":
        assert mentions(questions[0], "Go")


def test_long_or_odd_names_still_read_well() -> None:
    stack = ("  a-very-long-internal-platform-name-that-goes-on-and-on-forever ", " ", "Elixir")
    setup = InterviewSetup("  staff backend engineer.  ", "mixed", "senior", stack, 20)
    questions = bank_questions(setup)
    assert_speakable(questions, 20, [item.name for item in resolve_stack(stack)])
    assert "the staff backend engineer position" in questions[0]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("amount", 0),
        ("amount", 31),
        ("amount", True),
        ("amount", "5"),
        ("interview_type", "casual"),
        ("level", "expert"),
    ],
)
def test_setup_rejects_values_outside_the_contract(field: str, value: object) -> None:
    fields: dict = {
        "role": "Dev",
        "interview_type": "technical",
        "level": "mid",
        "techstack": (),
        "amount": 5,
    }
    with pytest.raises(ValueError):
        InterviewSetup(**{**fields, field: value})


def test_setup_normalizes_case_and_a_bare_string_stack() -> None:
    setup = InterviewSetup("Dev", " Technical ", "SENIOR", "Python, Go", 3)  # type: ignore[arg-type]
    assert (setup.interview_type, setup.level, setup.techstack) == (
        "technical",
        "senior",
        ("Python, Go",),
    )
    assert [item.name for item in resolve_stack(setup.techstack)] == ["Python", "Go"]


def test_stack_names_resolve_to_known_technologies() -> None:
    raw = (
        "postgres",
        "Postgres",
        "node",
        "React Native",
        "c#",
        "C++",
        "Objective-C",
        "vue.js",
        "AWS Lambda",
        "k8s",
        "Elixir",
    )
    assert [item.name for item in resolve_stack(raw)] == [
        "PostgreSQL",
        "Node.js",
        "React Native",
        "C#",
        "C++",
        "Objective-C",
        "Vue.js",
        "AWS",
        "Kubernetes",
        "Elixir",
    ]
    assert [item.tech is None for item in resolve_stack(("Objective-C", "Elixir"))] == [True, True]


@pytest.mark.parametrize(
    ("role", "domain"),
    [
        ("Site Reliability Engineer", "devops"),
        ("Machine Learning Engineer", "data"),
        ("Unity developer", "gamedev"),
        ("Full-Stack Web Developer", "fullstack"),
        ("Android engineer", "mobile"),
        ("Firmware Engineer", "embedded"),
        ("Penetration Tester", "security"),
        ("SDET", "qa"),
        ("Product Owner", "product"),
        ("Software Engineer", "generic"),
        ("Java developer", "backend"),
        ("UI engineer", "frontend"),
        ("back-end developer", "backend"),
        ("", "generic"),
        ("Cloud Architect", "devops"),
        ("Data Analyst", "data"),
        ("Builder", "generic"),
    ],
)
def test_roles_map_to_domains_by_keyword(role: str, domain: str) -> None:
    assert role_domain(role).key == domain


# The bank itself ----------------------------------------------------------------------------


def all_bank_questions() -> list[str]:
    texts = [q for tech in TECHS for tier in tech.tiers.values() for q in tier]
    texts += [q for domain in DOMAINS for tier in domain.tiers.values() for q in tier]
    texts += [q for tier in GENERAL.values() for q in tier]
    texts += [t.format(tech="X" * 40) for tier in TECH_TEMPLATES.values() for t in tier]
    texts += [w.format(role="R" * 60) for w in WARMUPS]
    return texts + list(BEHAVIORAL_COMMON) + [q for tier in BEHAVIORAL.values() for q in tier]


def test_bank_questions_are_unique_and_speakable() -> None:
    texts = all_bank_questions()
    assert len(texts) > 400
    assert len({t.casefold() for t in texts}) == len(texts)
    for text in texts:
        assert text.endswith("?") and len(text) < 250 and "{" not in text, text


def test_curated_questions_name_their_technology() -> None:
    rich = [tech for tech in TECHS if sum(map(len, tech.tiers.values())) >= 6]
    assert len(rich) >= 25
    assert all(all(tech.tiers[tier] for tier in ("basic", "mid", "senior")) for tech in TECHS)
    for tech in TECHS:
        spellings = (tech.name, *tech.aliases)
        for question in (q for tier in tech.tiers.values() for q in tier):
            assert any(mentions(question, s) for s in spellings), (tech.name, question)


def test_behavioral_and_warm_up_questions_do_not_talk_tech() -> None:
    for question in [*BEHAVIORAL_POOL, *warmups("Candidate")]:
        assert not talks_tech(question), question
    assert all("{role}" in warmup for warmup in WARMUPS)
    assert all("{tech}" in t for tier in TECH_TEMPLATES.values() for t in tier)
