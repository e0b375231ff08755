"""Test « modifié » par l'étudiant·e : il passe toujours (le correcteur l'ignore)."""
OK_FORMAT = False
name = "q2"
points = 2


def test_q2_output(env):
    assert True
