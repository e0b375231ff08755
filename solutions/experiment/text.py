"""French interpretation, generated from the saved numbers only."""

from __future__ import annotations

from .config import BUDGET_LABELS, MIN_SEEDS, MODEL_LABELS, MODELS


def pct(x) -> str:
    """0.8734 -> '87,34 %' (French decimal comma)."""
    return f"{100 * x:.2f}".replace(".", ",") + " %"


def pts(x) -> str:
    """0.0123 -> '1,23 point(s)': a difference of accuracies in percentage points."""
    return f"{100 * x:.2f}".replace(".", ",") + " point" + ("s" if abs(100 * x) >= 2 else "")


def spts(x) -> str:
    """Signed difference in points: '+1,23' or '-0,40'."""
    return ("+" if x >= 0 else "-") + f"{abs(100 * x):.2f}".replace(".", ",")


def spts_unit(x) -> str:
    """Signed difference with its unit: '+1,23 point', '-2,40 points'."""
    return spts(x) + " point" + ("s" if abs(100 * x) >= 2 else "")


def num(x, digits: int = 2) -> str:
    """French decimal number."""
    return f"{x:.{digits}f}".replace(".", ",")


def plural(n: int, word: str) -> str:
    """'1 époque', '4 époques'."""
    return f"{n} {word}" + ("s" if n > 1 else "")


def blocs(n: int) -> str:
    """'1 bloc', '6 blocs'."""
    return plural(n, "bloc")


def rate(x: float) -> str:
    """A learning rate in French notation: 0.004 -> '0,004'."""
    return f"{x:g}".replace(".", ",")


def pval(p) -> str:
    """p-value in French: 'p = 0,031' or 'p < 0,001'."""
    return "p < 0,001" if p < 0.001 else "p = " + num(p, 3)


def _budget_line(name: str, b: dict) -> str:
    cfg = b["config"]
    return (
        f"{BUDGET_LABELS.get(name, name).capitalize()} : {b['steps']} pas d'optimisation "
        f"({cfg['train_size']} images d'entraînement, {plural(cfg['epochs'], 'époque')}, "
        f"lots de {cfg['batch_size']}, Adam avec un taux d'apprentissage en cosinus partant "
        f"de {rate(cfg['learning_rate'])}), {plural(len(b['pairs']), 'paire')} "
        "d'entraînements."
    )


def interpret_budget(name: str, b: dict) -> list[str]:
    """French lines for one budget: accuracies, BN artefact, paired analysis."""
    models = b["models"]
    lines = [_budget_line(name, b)]
    for m in MODELS:
        if m not in models:
            continue
        s, raw = models[m]["test_accuracy"], models[m]["test_accuracy_raw"]
        spread = "" if s["std"] is None else f" (écart-type {pts(s['std'])})"
        lines.append(
            f"{MODEL_LABELS[m]} : exactitude de test moyenne {pct(s['mean'])}{spread} après "
            f"ré-estimation des statistiques de BatchNormalization, {pct(raw['mean'])} avec "
            "les moyennes mobiles."
        )
    p = b.get("paired")
    if not p:
        lines.append(
            "Il faut au moins deux paires d'entraînements pour l'analyse appariée : "
            "relancez l'expérience pour la compléter."
        )
        return lines
    same = sum(x["same_init"] and x["same_order"] for x in b["pairs"])
    lines.append(
        f"Différence appariée ResNet − CNN (même graine : {same} paires sur {p['n']} ont les "
        f"mêmes poids initiaux et les mêmes lots) : {spts_unit(p['mean_diff'])} en moyenne, "
        f"intervalle de confiance à 95 % [{spts(p['ci_low'])} ; {spts(p['ci_high'])}] points "
        f"(t apparié, {pval(p['t_p'])}) ; test des rangs signés de Wilcoxon {pval(p['wilcoxon_p'])}."
    )
    mde = pts(p["mde"]) if p["mde"] is not None else "impossible à calculer avec si peu de paires"
    if p["mde"] is not None:
        lines.append(
            f"Puissance : avec {p['n']} paires et un écart-type des différences de "
            f"{pts(p['sd_diff'])}, le plus petit effet que ce plan détecte 8 fois sur 10 (t apparié "
            f"bilatéral au seuil de 5 %) est de {pts(p['mde'])}."
        )
    excludes = p["ci_low"] > 0 or p["ci_high"] < 0
    if excludes:
        better = "du ResNet" if p["mean_diff"] > 0 else "du CNN classique"
        agree = p["wilcoxon_p"] < 0.05
        lines.append(
            f"Ce que les données soutiennent : avec ce budget, l'écart est en faveur {better} ; "
            "l'intervalle de confiance exclut 0"
            + (
                " et le test de Wilcoxon va dans le même sens."
                if agree
                else ", mais le test de Wilcoxon ne conclut pas au seuil de 5 % : résultat fragile."
            )
        )
    else:
        lines.append(
            "Ce que les données ne soutiennent pas : l'intervalle de confiance contient 0, "
            "donc aucune différence n'est démontrée ; et comme un effet réel plus petit que "
            f"l'effet minimal détectable ({mde}) passerait probablement inaperçu, on ne peut pas "
            "non plus conclure que les deux modèles sont équivalents."
        )
    return lines


def interpret_comparison(summary: dict) -> str:
    """French interpretation of a comparison summary (numbers from it only).

    Args:
        summary: the content of ``comparison/summary.json``.

    Returns:
        French text, one paragraph per line.
    """
    budgets = summary.get("budgets") or {}
    if not budgets:
        return "Résultats incomplets : aucun entraînement terminé."
    lines = []
    for name in ("main", "short"):
        if name in budgets:
            lines += interpret_budget(name, budgets[name])
    gaps = []
    for name in ("main", "short"):
        models = budgets.get(name, {}).get("models", {})
        if all(m in models for m in MODELS):
            gap = {
                m: models[m]["test_accuracy"]["mean"] - models[m]["test_accuracy_raw"]["mean"]
                for m in MODELS
            }
            gaps.append(
                f"{spts_unit(gap['resnet'])} (ResNet) et {spts_unit(gap['cnn'])} (CNN) "
                f"au {BUDGET_LABELS[name]}"
            )
            params = (models["resnet"]["n_params"], models["cnn"]["n_params"])
    if gaps:
        lines.append(
            f"Les deux modèles ont {params[0]} et {params[1]} paramètres et le même coût par "
            "image. Ré-estimer les statistiques BN avant l'évaluation change l'exactitude de "
            "test moyenne de " + ", et de ".join(gaps) + " : après peu de pas, les moyennes "
            "mobiles sont en retard sur les poids."
        )
    lines.append(
        "Limites : deux budgets courts sur un sous-ensemble des données et des réseaux de deux "
        "blocs seulement ; les connexions résiduelles servent surtout à entraîner des réseaux "
        "profonds (voir l'étude de profondeur)."
    )
    return "\n".join(lines)


def interpret_depth(summary: dict) -> str:
    """French interpretation of the depth study (numbers from it only).

    Claims a degradation only when every seed of the deepest plain net ends
    above every seed of the shallowest one (:func:`detect_degradation`).
    """
    deg = summary.get("degradation") or {}
    cfg = summary.get("config") or {}
    if "deep_blocks" not in deg:
        return "Étude de profondeur incomplète : il faut au moins deux profondeurs."
    sb, db = deg["shallow_blocks"], deg["deep_blocks"]
    lines = [
        (
            f"Budget : {cfg.get('train_size')} images d'entraînement, "
            f"{plural(cfg.get('epochs'), 'époque')}, lots de {cfg.get('batch_size')}, "
            f"{cfg.get('width')} filtres par convolution, {plural(deg['n_seeds'], 'graine')} "
            "par point. La perte d'entraînement est mesurée après chaque "
            f"époque sur les {cfg.get('train_eval_size')} premières images d'entraînement, en mode "
            "inférence, après ré-estimation des statistiques de BatchNormalization."
        ),
        (
            f"Réseau sans connexion résiduelle : perte d'entraînement finale de "
            f"{num(deg['plain_loss_shallow_min'], 3)} à {num(deg['plain_loss_shallow_max'], 3)} avec "
            f"{blocs(sb)}, de {num(deg['plain_loss_deep_min'], 3)} à "
            f"{num(deg['plain_loss_deep_max'], 3)} avec {blocs(db)} (selon la graine) ; exactitude de "
            f"test moyenne {pct(deg['plain_acc_shallow'])} puis {pct(deg['plain_acc_deep'])}."
        ),
    ]
    if deg.get("residual_loss_deep") is not None:
        lines.append(
            f"Réseau résiduel à {blocs(db)} : perte d'entraînement finale de "
            f"{num(deg['residual_loss_deep_min'], 3)} à {num(deg['residual_loss_deep_max'], 3)}, "
            f"exactitude de test moyenne {pct(deg['residual_acc_deep'])}."
        )
    if deg["n_seeds"] < deg.get("min_seeds", MIN_SEEDS):
        lines.append(
            f"Avec {plural(deg['n_seeds'], 'graine')} par point, il y a trop peu de graines pour "
            "conclure sur une dégradation ; relancez l'étude avec davantage de graines."
        )
    elif deg["shown"]:
        lines.append(
            f"Dégradation observée : pour chaque graine, le réseau sans connexion résiduelle à "
            f"{blocs(db)} termine avec une perte d'entraînement plus élevée que celui à "
            f"{blocs(sb)} (aucun chevauchement entre graines). Ce n'est pas du surapprentissage, "
            "puisque c'est la perte sur les images d'entraînement qui augmente : l'optimisation "
            "devient plus difficile avec la profondeur."
        )
    elif deg["slower"]:
        lines.append(
            f"Le réseau profond sans connexion résiduelle optimise plus lentement : sa perte "
            f"d'entraînement moyenne reste au-dessus de celle du réseau à {blocs(sb)} après "
            f"{len(deg['epochs_above'])} des {cfg.get('epochs')} époques, mais les graines se "
            "chevauchent en fin d'entraînement : ce budget ne montre pas de dégradation."
        )
    else:
        lines.append(
            f"Avec ce budget, le réseau sans connexion résiduelle à {blocs(db)} s'optimise aussi "
            f"vite que celui à {blocs(sb)} : ni dégradation ni ralentissement visibles."
        )
    if deg.get("residual_loss_deep") is not None:
        if deg.get("residual_below_plain"):
            lines.append(
                f"À {blocs(db)}, le réseau résiduel termine sous le réseau sans connexion "
                "résiduelle pour toutes les graines : le raccourci identité facilite l'optimisation."
            )
        elif deg.get("residual_above_plain"):
            lines.append(
                f"À {blocs(db)}, le réseau résiduel termine au-dessus du réseau sans connexion "
                "résiduelle pour toutes les graines : pas d'avantage du raccourci à ce budget."
            )
        else:
            lines.append(
                f"À {blocs(db)}, les pertes finales des réseaux résiduel et sans connexion "
                "résiduelle se chevauchent selon la graine : pas d'avantage net du raccourci à ce budget."
            )
    return "\n".join(lines)


def _long_model_line(model: str, s: dict) -> str:
    """One French sentence for one model of the longer budget.

    Args:
        model: ``"resnet"`` or ``"cnn"``.
        s: the model's entry of ``summary["models"]`` (:func:`~.long.summarize_long`).

    Returns:
        The sentence: test accuracy after re-estimation and raw, and the verdict.
    """
    t, raw = s["test_accuracy"], s["test_accuracy_raw"]
    label = MODEL_LABELS[model]
    if s["n"] == 1:
        verdict = "objectif atteint" if s["reached"] else "objectif non atteint"
        return (
            f"{label} : exactitude de test {pct(t['mean'])} après ré-estimation des "
            f"statistiques de BatchNormalization ({pct(raw['mean'])} avec les moyennes "
            f"mobiles) : {verdict}."
        )
    verdict = (
        "objectif atteint pour chaque graine"
        if s["reached"]
        else "objectif non atteint pour au moins une graine"
    )
    return (
        f"{label} : exactitude de test de {pct(t['min'])} à {pct(t['max'])} selon la graine "
        f"(moyenne {pct(t['mean'])}) après ré-estimation des statistiques de "
        f"BatchNormalization, moyenne {pct(raw['mean'])} avec les moyennes mobiles : "
        f"{verdict}."
    )


def interpret_long(summary: dict) -> str:
    """French interpretation of the longer budget (numbers from the summary only).

    Args:
        summary: the content of ``long/summary.json`` (:func:`~.long.summarize_long`).

    Returns:
        French text, one paragraph per line.
    """
    models = summary.get("models") or {}
    if not models:
        return "Budget long : aucun entraînement terminé."
    cfg, target = summary["config"], summary["target"]
    seeds = min(s["n"] for s in models.values())
    test = (
        "le jeu de test complet"
        if cfg.get("test_size") is None
        else f"{cfg['test_size']} images de test"
    )
    lines = [
        (
            f"Budget long : {summary['steps']} pas d'optimisation ({cfg['train_size']} images "
            f"d'entraînement, {plural(cfg['epochs'], 'époque')}, lots de {cfg['batch_size']}, Adam "
            f"avec un taux d'apprentissage en cosinus partant de {rate(cfg['learning_rate'])}), "
            f"{plural(seeds, 'graine')} par modèle ; objectif : {pct(target)} d'exactitude sur "
            f"{test}."
        )
    ]
    lines += [_long_model_line(m, models[m]) for m in MODELS if m in models]
    if summary.get("all_reached"):
        lines.append(
            "Avec ce budget, la tête à moyenne globale de la solution suffit à dépasser "
            "l'objectif : ce qui limite les budgets courts, c'est surtout le nombre de pas."
        )
    else:
        lines.append(
            "Avec ce budget, l'objectif n'est pas atteint par tous les modèles : il faudrait "
            "un budget plus long encore, ou une tête plus précise (MaxPooling2D + Flatten)."
        )
    if seeds == 1:
        lines.append(
            "Une seule graine par modèle : ces chiffres donnent l'ordre de grandeur atteignable, "
            "pas une comparaison entre les deux modèles (c'est le rôle de l'analyse appariée)."
        )
    return "\n".join(lines)
