"""Names of places as villagers say them: `XX村`, `XX社区` instead of the committee's official name.

The statistical list names a village by its committee: `林山寨村民委员会`, `小刘村村委会`,
`碧沙岗社区居委会`, `亚星社区居民管理委员会`. People say `林山寨村`, `小刘村`, `碧沙岗社区`.
Records keep the code and the official name; chats, posters and exports show the short form.
"""

from __future__ import annotations

import re

# The committee part at the end of an official name, in the order the words come:
# [社区][居民|村民][管理][居|村](委员会|委会). The leftmost match wins, so `白庙村村民委员会`
# loses `村民委员会` and keeps `白庙村`.
COMMITTEE = re.compile(r"(?:社区)?(?:居民|村民)?(?:管理)?(?:居|村)?(?:委员会|委会)$")
KEPT_ENDINGS = ("村", "社区")
VILLAGE_LEVEL = 5


def short_name(name: str, level: int) -> str:
    """The name a villager uses; other levels, and names without a committee part, stay as they are."""
    if level != VILLAGE_LEVEL:
        return name
    match = COMMITTEE.search(name)
    base = name[: match.start()] if match else ""
    if not base:
        return name
    if base.endswith(KEPT_ENDINGS):
        return base
    committee = match.group(0) if match else ""
    return base + ("社区" if "社区" in committee or "居" in committee else "村")
