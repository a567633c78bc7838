from cinexai.figures.cineecg3d import write_plotly_js
from cinexai.workflow import logged

with logged(snakemake):
    write_plotly_js(out=snakemake.output[0])
