"""One short file per Processing algorithm; each declares parameters and calls ntmgis."""


def algorithm_classes():
    """The algorithm classes of the "NTM GIS" provider, in menu order."""
    from .fetch_imagery import FetchImagery
    from .flag_gardens import FlagAbandonedGardens
    from .hamlet_progress import HamletProgress
    from .join_survey import JoinSurvey
    from .parcel_stats import ParcelStatistics
    from .print_atlas import PrintAtlas
    from .print_maps import PrintHamletMaps
    from .renovation_plan import RenovationPlan
    from .survey_form import SurveyForm
    from .vegetation_indices import VegetationIndices

    return [
        SurveyForm,
        JoinSurvey,
        FetchImagery,
        VegetationIndices,
        ParcelStatistics,
        FlagAbandonedGardens,
        HamletProgress,
        RenovationPlan,
        PrintHamletMaps,
        PrintAtlas,
    ]
