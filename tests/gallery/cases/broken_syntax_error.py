# A syntax error in the build_cnn cell (the other cells are fine).
# %%
# include: imports
# %%
# include: ref_block
# %%
# include: resnet_builder
# %%
def build_cnn(input_shape=(28, 28, 1), num_classes=10)
    return None
