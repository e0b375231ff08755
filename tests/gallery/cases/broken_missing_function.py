# build_cnn is misspelt (build_CNN): the function is missing.
# %%
# include: imports
# %%
# include: ref_block
# %%
# include: resnet_builder
# %%
def build_CNN(input_shape=(28, 28, 1), num_classes=10):
    return build_resnet(input_shape, num_classes)
