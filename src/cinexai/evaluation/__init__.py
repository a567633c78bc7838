"""Expert alignment: annotation masks, post-processing, Dice/IoU/Spearman, BCa tables, controls.

Stage entry functions (see ``docs/architecture.md``):
:func:`cinexai.evaluation.annotations.build_masks`, :func:`cinexai.evaluation.controls.oracle`,
:func:`cinexai.evaluation.score.score` and :func:`cinexai.evaluation.tables.make_tables`.
"""
