# A top-level cell raises an exception before correct function definitions.
# %%
# include: imports
# %%
raise RuntimeError("cellule qui plante")
# %%
# include: ref_block
# %%
# include: resnet_builder
# %%
# include: cnn_builder
