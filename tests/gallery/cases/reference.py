# The reference solution.
# %% [markdown]
# # ResNet à la main
# %%
# include: imports
# %%
# include: ref_block
# %%
# include: resnet_builder
# %%
# include: cnn_builder
