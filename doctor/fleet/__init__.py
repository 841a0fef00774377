"""``glm5-doctor fleet``: every node of a Ray cluster probed where it runs, judged on the head, compared.

``node.py`` runs on each node (a snapshot, no Ray import); ``collect.py`` is the Ray side (optional
extra ``glm5-doctor[fleet]``); ``registry.py`` and ``checks.py`` hold the cross-node checks;
``report.py`` puts the per-node reports and the cross-node results together.
"""
