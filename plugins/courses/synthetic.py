"""A synthetic OLX course export of exactly N blocks, for benchmarks (``make bench``,
``bench/generate_course.py``) and the benchmark dataset (:mod:`plugins.courses.bench`).

The course looks like a real one, scaled up: chapters of 5 subsections of 4
units of 4 components (text, a multiple-choice problem, a YouTube video, more
text), written as Studio writes them (pointers, xml+html pairs, policies).
Every other subsection is graded homework with a due date; one unit in 20 is
staff-only, one text in 10 is restricted to a content group, and every tenth
chapter starts in the future, so a learner's view is a real filtering job.
The block count, the course root included, is exactly N.
"""
import json
from pathlib import Path

SEQUENTIALS_PER_CHAPTER = 5
VERTICALS_PER_SEQUENTIAL = 4
LEAVES_PER_VERTICAL = 4
LEAF_TYPES = ("html", "problem", "video", "html")
CONTENT_PARTITION = {
    "id": 1000, "name": "Content Groups", "scheme": "cohort", "parameters": {},
    "description": "Two content groups.", "active": True, "version": 3,
    "groups": [{"id": 1, "name": "Group A", "version": 1},
               {"id": 2, "name": "Group B", "version": 1}],
}
PROBLEM = """<problem display_name="Question {n}" weight="1.0" max_attempts="2">
  <multiplechoiceresponse>
    <label>Which of these numbers is {n} modulo 3?</label>
    <choicegroup type="MultipleChoice">
      <choice correct="{c0}">{a0}</choice>
      <choice correct="{c1}">{a1}</choice>
      <choice correct="{c2}">{a2}</choice>
    </choicegroup>
  </multiplechoiceresponse>
</problem>
"""


class Writer:
    def __init__(self, root):
        self.root = Path(root)

    def write(self, relative, text):
        path = self.root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def pointer_list(tag, ids):
    return "".join(f'\n  <{tag} url_name="{block_id}"/>' for block_id in ids)


def plan(blocks):
    """The tree as nested lists, cut so that the total (root included) is ``blocks``."""
    if blocks < 1:
        raise ValueError("a course has at least its root block")
    remaining = blocks - 1
    chapters = []
    while remaining > 0:
        chapter = []
        chapters.append(chapter)
        remaining -= 1
        for _ in range(SEQUENTIALS_PER_CHAPTER):
            if remaining <= 0:
                break
            sequential = []
            chapter.append(sequential)
            remaining -= 1
            for _ in range(VERTICALS_PER_SEQUENTIAL):
                if remaining <= 0:
                    break
                leaves = min(LEAVES_PER_VERTICAL, remaining - 1)
                sequential.append(max(leaves, 0))
                remaining -= 1 + max(leaves, 0)
    return chapters


def generate(out_dir, blocks=5000, course_key="course-v1:Bench+Synthetic+2026"):
    """Write the export; return the number of blocks written (always ``blocks``)."""
    org, number, run = course_key[len("course-v1:"):].split("+")
    out = Writer(out_dir)
    chapters = plan(blocks)
    written = 1
    chapter_ids, leaf_number = [], 0
    for c, chapter in enumerate(chapters):
        chapter_id = f"chapter_{c:04d}"
        chapter_ids.append(chapter_id)
        start = ' start="2031-01-01T00:00:00+00:00"' if c % 10 == 9 else ""
        sequential_ids = []
        for s, sequential in enumerate(chapter):
            sequential_id = f"sequential_{c:04d}_{s}"
            sequential_ids.append(sequential_id)
            graded = (' graded="true" format="Homework" '
                      f'due="2030-{(c % 12) + 1:02d}-15T23:59:00+00:00"') if s % 2 else ""
            vertical_ids = []
            for v, leaf_count in enumerate(sequential):
                vertical_id = f"vertical_{c:04d}_{s}_{v}"
                vertical_ids.append(vertical_id)
                staff_only = ' visible_to_staff_only="true"' if (c + s + v) % 20 == 7 else ""
                children = []
                for leaf in range(leaf_count):
                    leaf_number += 1
                    block_type = LEAF_TYPES[leaf % len(LEAF_TYPES)]
                    leaf_id = f"{block_type}_{leaf_number:06d}"
                    children.append((block_type, leaf_id))
                    write_leaf(out, block_type, leaf_id, leaf_number)
                out.write(f"vertical/{vertical_id}.xml",
                          f'<vertical display_name="Unit {c + 1}.{s + 1}.{v + 1}"{staff_only}>'
                          + "".join(f'\n  <{t} url_name="{i}"/>' for t, i in children)
                          + "\n</vertical>\n")
                written += 1 + len(children)
            out.write(f"sequential/{sequential_id}.xml",
                      f'<sequential display_name="Subsection {c + 1}.{s + 1}"{graded}>'
                      + pointer_list("vertical", vertical_ids) + "\n</sequential>\n")
            written += 1
        out.write(f"chapter/{chapter_id}.xml",
                  f'<chapter display_name="Week {c + 1}"{start}>'
                  + pointer_list("sequential", sequential_ids) + "\n</chapter>\n")
        written += 1
    out.write("course.xml", f'<course url_name="{run}" org="{org}" course="{number}"/>\n')
    out.write(f"course/{run}.xml",
              f'<course display_name="Synthetic course ({blocks} blocks)" '
              'start="2026-01-01T00:00:00+00:00" language="en">'
              + pointer_list("chapter", chapter_ids) + "\n</course>\n")
    out.write(f"policies/{run}/policy.json", json.dumps({f"course/{run}": {
        "user_partitions": [CONTENT_PARTITION],
        "tabs": [{"type": "courseware", "name": "Course", "course_staff_only": False}],
    }}, indent=2))
    out.write(f"policies/{run}/grading_policy.json", json.dumps({
        "GRADER": [{"type": "Homework", "short_label": "HW", "min_count": 10,
                    "drop_count": 2, "weight": 1.0}],
        "GRADE_CUTOFFS": {"Pass": 0.5}}, indent=2))
    out.write("about/overview.html", "<p>A synthetic course for benchmarks.</p>\n")
    return written


def write_leaf(out, block_type, leaf_id, n):
    if block_type == "html":
        restricted = (f' group_access="{{&quot;1000&quot;: [{n % 2 + 1}]}}"'
                      if n % 10 == 3 else "")
        out.write(f"html/{leaf_id}.xml",
                  f'<html filename="{leaf_id}" display_name="Text {n}"{restricted}/>\n')
        out.write(f"html/{leaf_id}.html",
                  f"<p>Paragraph {n}: some text a learner reads before the next question.</p>\n")
    elif block_type == "problem":
        answers = [n % 3, (n + 1) % 3, (n + 2) % 3]
        out.write(f"problem/{leaf_id}.xml", PROBLEM.format(
            n=n, a0=answers[0], a1=answers[1], a2=answers[2],
            c0=str(answers[0] == n % 3).lower(), c1=str(answers[1] == n % 3).lower(),
            c2=str(answers[2] == n % 3).lower()))
    else:
        out.write(f"video/{leaf_id}.xml",
                  f'<video display_name="Video {n}" youtube="1.00:3_yD_cEKoCk" '
                  'youtube_id_1_0="3_yD_cEKoCk" html5_sources="[]" transcripts="{}"/>\n')
