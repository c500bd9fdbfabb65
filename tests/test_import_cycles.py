"""The web app's modules import each other without a cycle, at any level: a module-level import
or one inside a function (the usual way to hide a cycle rather than remove it). A cycle means two
modules each own part of one rule; the fix is to give the rule to one of them."""

from __future__ import annotations

import grimp
import networkx as nx


def _graph() -> nx.DiGraph:
    imports = grimp.build_graph("memorial", include_external_packages=False)
    graph = nx.DiGraph()
    for module in imports.modules:
        graph.add_node(module)
        for imported in imports.find_modules_directly_imported_by(module):
            # A package's __init__ importing its own submodule is not a cycle between modules.
            if not imported.startswith(f"{module}."):
                graph.add_edge(module, imported)
    return graph


def test_the_import_graph_sees_imports_inside_functions():
    imports = grimp.build_graph("memorial", include_external_packages=False)
    # jobs.services imports memorial.memorials.gentle inside its functions only.
    assert imports.direct_import_exists(
        importer="memorial.jobs.services", imported="memorial.memorials.gentle"
    )


def test_no_module_of_the_web_app_imports_itself_through_others():
    cycles = [sorted(c) for c in nx.strongly_connected_components(_graph()) if len(c) > 1]
    assert cycles == [], f"import cycles: {cycles}"


def test_consent_withdrawal_calls_job_retirement_which_calls_no_deletion():
    """A withdrawal retires jobs; a job's end reaches the deletions through a signal, so that jobs
    (below) import neither consent nor moderation (above)."""
    graph = _graph()
    assert graph.has_edge("memorial.consent.services", "memorial.jobs.retirement")
    assert not nx.has_path(graph, "memorial.jobs.retirement", "memorial.consent.services")
    assert not nx.has_path(graph, "memorial.jobs.retirement", "memorial.moderation.services")
